"""Host look-ups with a bound on the wait, and the warning for a host that only
its own network can reach."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from astra_auth.core.threads import start_worker


def private_address_warning(url: str, timeout: float = 2.0) -> str | None:
    """Warn when the host is only reachable from inside its own network.

    A scanner running elsewhere cannot reach a private, loopback or link-local
    address, so a token URL that resolves to one is usually a mistake (or needs
    the scanner to run inside that network).
    """
    host = urlsplit(url).hostname or ""
    addresses = resolve(host, timeout)
    if addresses is None:
        return f"{host} does not resolve from this machine; check the host name"
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        kind = (
            "loopback" if address.is_loopback
            else "link-local" if address.is_link_local
            else "private" if address.is_private
            else None
        )
        if kind:
            return (
                f"{host} resolves to {kind} address {address}: a scanner outside that "
                "network cannot reach it"
            )
    return None


def resolve(host: str, timeout: float) -> list[str] | None:
    """The addresses `host` resolves to, in the resolver's order; None when it
    does not resolve within `timeout` seconds."""
    import socket  # not loaded at start, unlike the others

    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    result: list[str] | None = None

    def lookup() -> None:
        nonlocal result
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            result = list(dict.fromkeys(str(info[4][0]) for info in infos))
        except (OSError, UnicodeError):
            result = None

    # getaddrinfo has no timeout of its own; a daemon thread bounds the wait.
    thread = start_worker(lookup, "astra-auth-resolve")
    thread.join(timeout)
    return result
