"""The HTTP client for every exchange: TLS trust, proxies, no redirects, deadlines.

- `make_client`: verification against the OS trust store, no redirects, the
  environment's proxies, but never a proxy for a loopback host (an http token URL on loopback would hand its credentials to the
  proxy in clear).
- `Deadline`: one overall limit for a whole exchange (grant, discovery, API
  check, the proxy's token requests).  httpx's timeouts bound each network
  operation, not the exchange: a server trickling one byte a second never trips
  them.  `Deadline.run` runs the exchange in a worker thread and stops waiting
  at the deadline; loops reading a body call `Deadline.check` between chunks.
- `pin_loopback`: plain http is allowed only to loopback, and "loopback" is
  decided by the addresses a name resolves to, not by the name
  (`http://api.localhost` may resolve anywhere); the request then goes to the
  address that was checked, so a second lookup cannot answer differently.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from astra_auth.core import validate
from astra_auth.core.threads import start_worker
from astra_auth.core.version import __version__

if TYPE_CHECKING:
    import httpx

    from astra_auth.oauth.client_auth import ClientKey

T = TypeVar("T")
# A worker that has not finished this long after its deadline is abandoned.
GRACE = 0.25


class Deadline:
    """A point in time by which a whole exchange must be over."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._end = monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def check(self) -> None:
        """Raise httpx.ReadTimeout once the deadline has passed."""
        if self.expired:
            import httpx

            raise httpx.ReadTimeout(f"no complete answer within {self.seconds:g} seconds")

    def run(self, work: Callable[[], T]) -> T:
        """`work()`, or httpx.ReadTimeout when it is not done by the deadline.

        The worker is a daemon thread: one that hangs in a read is abandoned,
        never waited for.  Its exception, if any, is raised here.
        """
        self.check()
        result: dict[str, Any] = {}

        def target() -> None:
            try:
                result["value"] = work()
            except BaseException as exc:  # handed over to the waiting thread
                result["error"] = exc

        worker = start_worker(target, "astra-auth-http")
        worker.join(self.remaining() + GRACE)
        if worker.is_alive():
            import httpx

            raise httpx.ReadTimeout(f"the whole exchange took longer than {self.seconds:g} "
                                    "seconds")
        if "error" in result:
            raise result["error"]
        return result["value"]


class NotLoopback(Exception):
    """A plain-http URL whose host does not resolve to loopback addresses only."""


def pin_loopback(url: str, deadline: Deadline | None = None, *,
                 resolve: Callable[[str, float], list[str] | None] | None = None,
                 ) -> tuple[str, dict[str, str]]:
    """For a plain-http URL, the URL to request and the headers it needs.

    https URLs and http URLs to a loopback IP literal are returned as they are.
    An http URL with a host name is resolved here: every address must be a
    loopback one (else NotLoopback), and the request goes to the first, with
    the original `Host` header.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http":
        return url, {}
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not literal.is_loopback:
            raise NotLoopback(f"{host} is not a loopback address")
        return url, {}
    if resolve is None:
        from astra_auth.net import resolve as resolving

        resolve = resolving.resolve
    lookup = resolve
    timeout = min(deadline.remaining(), 5.0) if deadline is not None else 5.0
    addresses = lookup(host, timeout)
    if not addresses:
        raise NotLoopback(f"{host} does not resolve")
    outside = [a for a in addresses if not ipaddress.ip_address(a.split("%", 1)[0]).is_loopback]
    if outside:
        raise NotLoopback(f"{host} resolves to {', '.join(outside[:3])}, not to a loopback "
                          "address")
    first = ipaddress.ip_address(addresses[0].split("%", 1)[0])
    shown = f"[{first}]" if first.version == 6 else str(first)
    netloc = shown + (f":{parts.port}" if parts.port else "")
    return (urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")),
            {"Host": parts.netloc})


def ssl_context(ca_bundle: Path | None, environ: Mapping[str, str]) -> ssl.SSLContext:
    """Verify against the operating system's trust store, plus what the user adds.

    truststore makes a corporate CA installed system-wide just work (and uses
    the macOS and Windows stores there); `--ca-bundle` and `SSL_CERT_FILE` /
    `SSL_CERT_DIR` add certificates on top.
    """
    try:
        import truststore

        ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except ImportError:  # pragma: no cover - truststore is a dependency
        ctx = ssl.create_default_context()
    cafile = environ.get("SSL_CERT_FILE")
    capath = environ.get("SSL_CERT_DIR")
    if cafile or capath:
        ctx.load_verify_locations(cafile=cafile or None, capath=capath or None)
    if ca_bundle is not None:
        ctx.load_verify_locations(cafile=str(ca_bundle))
    return ctx


def make_client(timeout: float, ca_bundle: Path | None, environ: Mapping[str, str], *,
                identity: ClientKey | None = None) -> httpx.Client:
    """`identity`: a client certificate to present (RFC 8705); its key is
    loaded from memory, and a key that does not fit raises KeyProblem."""
    import httpx

    verify = ssl_context(ca_bundle, environ)
    if identity is not None:
        identity.load_identity(verify)
    return httpx.Client(
        verify=verify,
        timeout=httpx.Timeout(timeout),
        # RFC 6749 §3.2 and docs/files-and-secrets.md: never re-send credentials elsewhere.
        follow_redirects=False,
        # HTTP(S)_PROXY / NO_PROXY from the environment are the user's choice,
        # applied by our own router (never for loopback); httpx's reading of the
        # environment (proxies, .netrc) is off.
        trust_env=False,
        transport=_router_class()(verify, environ),
        headers={"User-Agent": f"astra-auth/{__version__}"},
    )


_ROUTER: type | None = None


def _router_class() -> type:
    """An httpx transport choosing, per request, a direct connection or the
    environment's proxy; a loopback host always goes direct."""
    global _ROUTER
    if _ROUTER is None:
        import httpx

        class Router(httpx.BaseTransport):
            def __init__(self, verify: ssl.SSLContext, environ: Mapping[str, str]) -> None:
                self._verify = verify
                self._environ = environ
                self._direct = httpx.HTTPTransport(verify=verify)
                self._proxied: dict[str, httpx.HTTPTransport] = {}

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                proxy = environment_proxy(str(request.url), self._environ)
                if proxy is None:
                    return self._direct.handle_request(request)
                if proxy not in self._proxied:
                    self._proxied[proxy] = httpx.HTTPTransport(verify=self._verify, proxy=proxy)
                return self._proxied[proxy].handle_request(request)

            def close(self) -> None:
                self._direct.close()
                for transport in self._proxied.values():
                    transport.close()

        _ROUTER = Router
    return _ROUTER


def environment_proxy(url: str, environ: Mapping[str, str], *,
                      loopback_direct: bool = True) -> str | None:
    """The proxy (with its credentials) that `url` goes through: HTTP(S)_PROXY or
    ALL_PROXY unless NO_PROXY names the host, and never for a loopback host
    (`loopback_direct=False`: the proxy the environment names even then)."""
    # In urllib.request since Python 2, though typeshed does not list it.
    from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

    parts = urlsplit(url)
    if loopback_direct and validate.is_loopback_host(parts.hostname or ""):
        return None
    lowered = {k.lower(): v for k, v in environ.items()}
    proxy = lowered.get(f"{parts.scheme}_proxy") or lowered.get("all_proxy")
    if not proxy:
        return None
    no_proxy = lowered.get("no_proxy", "")
    if no_proxy and proxy_bypass_environment(parts.hostname or "", {"no": no_proxy}):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy `url` goes through, without its credentials, for --verbose."""
    proxy = environment_proxy(url, environ)
    if proxy is None:
        return None
    p = urlsplit(proxy)
    host = p.hostname or ""
    netloc = host + (f":{p.port}" if p.port else "")
    return urlunsplit((p.scheme, netloc, p.path, "", ""))
