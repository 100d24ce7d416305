"""`astra-auth proxy`: a local reverse proxy per target that adds a fresh credential.

This package is imported by the `proxy` command only (a test holds every other
command to that), so its HTTP library and event loop never slow down another
command's start.

`run` does everything that can fail with a usage or configuration error first,
in this order: the flags, the targets and their upstream URLs, then the
sockets (a port in use is exit 2 before anything else happens).  The server
in `astra_auth.proxy.server` then checks every credential it can without a
network (a value that cannot go into a header is exit 3), listens, and only
then prints the addresses.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from astra_auth.core import validate
from astra_auth.core.cli_params import CA_BUNDLE, TIMEOUT, Argument, Option
from astra_auth.core.errors import ConfigError, UsageError
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps

DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"
# --allow-remote without --host: every IPv4 interface.
REMOTE_HOST = "0.0.0.0"


@dataclass
class ProxyOptions:
    # "NAME" or "NAME=PORT"; PORT 0 picks a free port (the printed address says which).
    targets: Annotated[list[str], Argument(
        help="TARGET or TARGET=PORT (default port 8080; 0: any free port), one per identity.",
        metavar="TARGET[=PORT]...", target_names=True)]
    host: Annotated[str | None, Option(
        "--host", help="Address to listen on (default 127.0.0.1; another than loopback needs "
        "--allow-remote).")] = None
    upstream: Annotated[str | None, Option(
        "--upstream", metavar="URL",
        help="Forward to this URL instead of the target's url.")] = None
    allow_remote: Annotated[bool, Option(
        "--allow-remote", help="Listen beyond loopback: anyone who can reach the port can "
        "use the credential.")] = False
    allow_origins: Annotated[tuple[str, ...], Option(
        "--allow-origin", metavar="ORIGIN",
        help="Let web pages of this origin (scheme://host[:port]) use the proxy; repeatable. "
        "Others are refused.")] = ()
    quiet: Annotated[bool, Option(
        "--quiet", "-q", help="Print failures only, no renewals.")] = False
    # None: each target's own timeout (else 10 s) and CA bundle.
    timeout: Annotated[float | None, TIMEOUT] = None
    ca_bundle: Annotated[Path | None, CA_BUNDLE] = None


@dataclass
class Listener:
    """One target on one port, its socket bound (`listen` makes it listen)."""

    target: Target
    upstream: str  # the API's base URL, as configured or given
    sock: socket.socket
    address: str  # http://HOST:PORT, as the scanner should use it
    # Where to connect: `upstream` itself, or for plain http to a loopback host
    # name, the loopback address it resolved to (checked once, at start), with
    # the name kept for the Host header.
    connect: str = ""
    host_header: str | None = None


def run(opts: ProxyOptions, deps: Deps) -> None:
    specs = _parse_specs(opts.targets)
    host = _check_host(opts)
    _check_origins(opts.allow_origins)
    _check_network_flags(opts)
    config = deps.config.load()
    from astra_auth.storage.lookup import lookup

    planned = []
    for name, port in specs:
        target = lookup(config, name, deps)
        upstream, connect, host_header = _upstream(target, opts.upstream)
        planned.append((target, upstream, connect, host_header, port))
    listeners: list[Listener] = []
    try:
        for target, upstream, connect, host_header, port in planned:
            sock = _bind(host, port)
            listeners.append(Listener(target, upstream, sock, _address(host, sock),
                                      connect, host_header))
        if opts.allow_remote:
            deps.io.warn(
                f"--allow-remote: anyone who can reach {host} on "
                f"{_ports(listeners)} can use the credential of "
                f"{', '.join(dict.fromkeys(li.target.name for li in listeners))}: "
                "keep the port behind a firewall, and stop the proxy when the scan ends."
            )
        from astra_auth.proxy.server import serve

        serve(listeners, opts, deps)
    finally:
        for listener in listeners:
            listener.sock.close()


def _parse_specs(specs: list[str]) -> list[tuple[str, int]]:
    if not specs:
        raise UsageError("give at least one TARGET (or TARGET=PORT)",
                         hints=["For example: astra-auth proxy payments-api=8080"])
    parsed: list[tuple[str, int]] = []
    for spec in specs:
        name, sep, port_text = spec.partition("=")
        try:
            validate.target_name(name)
        except ValueError as exc:
            raise UsageError(f"TARGET {spec!r}: {exc}") from None
        port = DEFAULT_PORT
        if sep:
            if not port_text.isdigit() or int(port_text) > 65535:
                raise UsageError(
                    f"TARGET {spec!r}: the port must be a number from 1 to 65535 "
                    "(or 0 for any free port)")
            port = int(port_text)
        parsed.append((name, port))
    ports = [port for _, port in parsed if port != 0]
    dupes = sorted({port for port in ports if ports.count(port) > 1})
    if dupes:
        raise UsageError(
            f"port {dupes[0]} is given to more than one target: each target needs a port "
            "of its own",
            hints=["Name one per target, e.g.: astra-auth proxy alice=8081 bob=8082"],
        )
    return parsed


def _check_host(opts: ProxyOptions) -> str:
    host = opts.host
    if host is None:
        return REMOTE_HOST if opts.allow_remote else DEFAULT_HOST
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not host.isprintable() or " " in host:
        raise UsageError("--host: give an address or host name to listen on, e.g. 127.0.0.1")
    if not opts.allow_remote and not validate.is_loopback_host(host):
        raise UsageError(
            f"--host {host}: listening beyond loopback lets anyone who can reach the port "
            "use the target's credential",
            hints=[f"If that is what you want, add --allow-remote: astra-auth proxy ... "
                   f"--host {host} --allow-remote"],
        )
    return host


def _check_origins(origins: tuple[str, ...]) -> None:
    from astra_auth.proxy.admission import normalize_origin

    for origin in origins:
        if normalize_origin(origin) is None:
            raise UsageError(
                f"--allow-origin {origin!r}: give a web origin, scheme://host[:port] "
                "(e.g. http://localhost:3000), as a browser sends it in Origin")


def _check_network_flags(opts: ProxyOptions) -> None:
    from astra_auth.net.settings import check_network_options

    check_network_options(opts.timeout, opts.ca_bundle)


def _upstream(target: Target, flag: str | None) -> tuple[str, str, str | None]:
    """The URL requests are forwarded to (--upstream, else the target's url),
    where to connect for it, and the Host header that needs (see Listener)."""
    error: type[UsageError] | type[ConfigError]
    if flag is not None:
        url, where, error = flag, "--upstream", UsageError
        fix = "Give --upstream an https URL (http only for a loopback host)."
    elif target.url:
        url, where, error = target.url, f"target {target.name!r}: url", ConfigError
        from astra_auth.text.shellcmd import Placeholder, configure

        fix = ("Point the target at its https URL: "
               + configure(target.name, "--url", Placeholder("https://api.example.com")))
    else:
        from astra_auth.text.shellcmd import Placeholder, configure

        raise ConfigError(
            f"target {target.name!r} has no API URL, so the proxy does not know where to "
            "forward requests",
            hints=["Set it with: "
                   + configure(target.name, "--url", Placeholder("https://api.example.com")),
                   "Or give one for this run: --upstream https://api.example.com"],
        )
    try:
        url = validate.api_url(url)
    except validate.InsecureURL:
        raise error(
            f"{where}: {url} uses plain http: the proxy would send the credential across "
            "the network in clear text (plain http is accepted only for loopback hosts)",
            hints=[fix], category="insecure_url",
        ) from None
    except ValueError as exc:
        raise error(f"{where}: {exc}") from None
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise error(f"{where}: an upstream URL has no ?query or #fragment; remove them")
    url = url.rstrip("/")
    from astra_auth.net.transport import NotLoopback, pin_loopback

    try:
        connect, pinned = pin_loopback(url)
    except NotLoopback as exc:
        # http://api.localhost may resolve anywhere: loopback is what the name
        # resolves to, not what it says (as for token URLs).
        raise error(f"{where}: {url} uses plain http, and {exc}: the credential would "
                    "cross the network in clear text", hints=[fix],
                    category="insecure_url") from None
    return url, connect, pinned.get("Host")


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise UsageError(f"--host {host}: this name does not resolve") from None
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # Lets a restarted proxy take its port back at once from connections in
        # TIME_WAIT; on Linux and macOS it never lets two listeners share a port.
        if not _windows():
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
    except OSError as exc:
        sock.close()
        raise _bind_error(host, port, exc) from None
    sock.setblocking(False)
    return sock


def listen(listener: Listener) -> None:
    """Start accepting connections on a socket `run` bound."""
    host, port = listener.sock.getsockname()[:2]
    try:
        listener.sock.listen(128)
    except OSError as exc:
        raise _bind_error(str(host), int(port), exc) from None


def _bind_error(host: str, port: int, exc: OSError) -> UsageError:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return UsageError(
            f"port {port} is in use on {host}: another program listens there",
            hints=[f"Pick another port: astra-auth proxy NAME={port + 1 if port < 65535 else 8081}"
                   " (or NAME=0 for any free port)"],
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return UsageError(f"not allowed to listen on {where} (ports below 1024 need "
                          "privileges)", hints=["Pick a port above 1023, e.g. NAME=8080"])
    if exc.errno == errno.EADDRNOTAVAIL:
        return UsageError(f"--host {host}: not an address of this machine")
    return UsageError(f"cannot listen on {where}: {exc.strerror or type(exc).__name__}")


def _address(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = host
    if host in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1" if host != "::" else "::1"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _ports(listeners: list[Listener]) -> str:
    ports = [str(li.sock.getsockname()[1]) for li in listeners]
    return ("port " if len(ports) == 1 else "ports ") + ", ".join(ports)


def _windows() -> bool:
    import sys

    return sys.platform == "win32"
