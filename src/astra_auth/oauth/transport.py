"""The HTTP client for token requests: TLS trust, proxies, no redirects."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx


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


def make_client(timeout: float, ca_bundle: Path | None, environ: Mapping[str, str]) -> httpx.Client:
    import httpx

    from astra_auth import __version__

    return httpx.Client(
        verify=ssl_context(ca_bundle, environ),
        timeout=httpx.Timeout(timeout),
        # RFC 6749 §3.2 and the contract: never re-send credentials elsewhere.
        follow_redirects=False,
        # HTTP(S)_PROXY / NO_PROXY from the environment are the user's choice.
        trust_env=True,
        headers={"User-Agent": f"astra-auth/{__version__}"},
    )


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy httpx will use for `url`, without its credentials, for --verbose."""
    from urllib.request import proxy_bypass_environment

    parts = urlsplit(url)
    lowered = {k.lower(): v for k, v in environ.items()}
    proxy = lowered.get(f"{parts.scheme}_proxy") or lowered.get("all_proxy")
    if not proxy:
        return None
    no_proxy = lowered.get("no_proxy", "")
    if no_proxy and proxy_bypass_environment(parts.hostname or "", {"no": no_proxy}):
        return None
    p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = p.hostname or ""
    netloc = host + (f":{p.port}" if p.port else "")
    return urlunsplit((p.scheme, netloc, p.path, "", ""))
