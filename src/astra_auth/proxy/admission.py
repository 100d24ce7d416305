"""What the proxy refuses before anything reaches the API, and which answers
from the API it refuses to pass on: pure rules over a parsed head, no I/O.

aiohttp's request parser (llhttp in strict mode) already refuses most
ambiguous framings: Content-Length with Transfer-Encoding, two lengths, a
length list, obs-fold, bare LF, a control character, an overflowing chunk
size.  The rules here refuse the rest explicitly, so that nothing depends on
how lenient a parser release is: a transfer coding other than chunked, two
Host fields, header bytes that are not UTF-8 text (aiohttp could not forward
them unchanged), a head over 256 KiB in all.

Then web pages are kept out.  A page that rebinds its own name to 127.0.0.1
(DNS rebinding) is same-origin with the proxy, and a cross-site "simple" POST
needs no preflight: without `--allow-remote`, a `Host` other than the proxy's
own address is refused (421), and a request that a browser marks as coming
from a page (`Origin`, or `Sec-Fetch-Site: cross-site`/`same-site`) is refused
(403) unless `--allow-origin` admits its origin.  Scanners send neither
unless told to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

    from astra_auth.proxy import Listener, ProxyOptions

# A request or answer head (request line and header fields) larger than this
# is refused: real scanners send big cookies and JWTs, but not this big.
MAX_HEAD = 256 * 1024
# What an HTTP/1.1 field value cannot hold (RFC 9110 §5.5): controls but HTAB.
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class Refusal:
    """The proxy's own answer: status, category and message of its JSON body."""

    status: int
    category: str
    message: str
    hint: str | None = None
    close: bool = False  # the connection closes after it (its framing is not trusted)


NOT_HTTP = Refusal(400, "bad_request", "not a valid HTTP/1.1 request", close=True)
TOO_LARGE = Refusal(431, "request_too_large",
                    f"the request's head is larger than {MAX_HEAD // 1024} KiB", close=True)
# RFC 9112 §6.1: a transfer coding the proxy cannot decode (it decodes chunked only).
UNSUPPORTED_CODING = Refusal(501, "bad_request", "the request's body has a transfer coding "
                             "other than chunked: send it with Content-Length, or chunked "
                             "alone", close=True)
NOT_UTF8 = Refusal(400, "bad_request", "a header field or the request target holds bytes "
                   "that are not UTF-8 text, which the proxy cannot forward unchanged")
TWO_HOSTS = Refusal(400, "bad_request", "the request has two Host header fields", close=True)


def own_hosts(host: str, port: int) -> frozenset[str]:
    """The `Host` values that name the proxy itself (lower case)."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("0.0.0.0", "::", ""):
        names.add(f"[{host.lower()}]" if ":" in host else host.lower())
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(hosts)


def normalize_origin(text: str) -> str | None:
    """`scheme://host[:port]` as browsers send it in `Origin` (RFC 6454 §6.1),
    lower case and without a default port; None for anything else ("null")."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class Admission:
    """One listening port's rules."""

    address: str  # http://HOST:PORT, as printed for the scanner
    hosts: frozenset[str] | None  # None: any Host (--allow-remote)
    origins: frozenset[str]  # admitted with --allow-origin, normalized

    @classmethod
    def of(cls, listener: Listener, opts: ProxyOptions) -> Admission:
        host, port = listener.sock.getsockname()[:2]
        hosts = None if opts.allow_remote else own_hosts(str(host), int(port))
        return cls(listener.address, hosts,
                   frozenset(o for o in map(normalize_origin, opts.allow_origins) if o))

    def check(self, method: str, target: str, version: tuple[int, int],
              fields: Iterable[tuple[bytes, bytes]]) -> Refusal | None:
        """The refusal for this request, or None to forward it."""
        if tuple(version) not in ((1, 1), (1, 0)):
            return NOT_HTTP  # (the server closes such a connection unanswered)
        if method == "CONNECT" or not target.startswith("/"):
            # "GET http://host/..." or "CONNECT host:443": a scanner set up to use
            # this as a forward proxy.  Never forwarded anywhere.
            return Refusal(
                400, "not_a_forward_proxy",
                "astra-auth proxy is a reverse proxy: send it the API's requests as to "
                "the API itself (GET /path), not as to a forward proxy",
                f"Make {self.address} the scanner's target instead of its proxy (docs/proxy.md: "
                "scanners that only know forward proxies).", close=method == "CONNECT")
        if not target.isascii() and not _utf8_text(target):
            return NOT_UTF8
        size = len(target) + 16
        hosts: list[bytes] = []
        origins: list[bytes] = []
        fetch_site = b""
        lengths = 0
        codings: list[bytes] = []
        for name, value in fields:
            size += len(name) + len(value) + 4
            lowered = name.lower()
            if lowered == b"host":
                hosts.append(value)
            elif lowered == b"origin":
                origins.append(value)
            elif lowered == b"sec-fetch-site":
                fetch_site = value.strip().lower()
            elif lowered == b"content-length":
                lengths += 1
            elif lowered == b"transfer-encoding":
                codings.append(value)
            if not value.isascii():
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    return NOT_UTF8
        if size > MAX_HEAD:
            return TOO_LARGE
        if lengths > 1 or (lengths and codings):
            return NOT_HTTP
        if codings and (len(codings) > 1 or codings[0].strip().lower() != b"chunked"):
            return UNSUPPORTED_CODING
        if len(hosts) > 1:
            return TWO_HOSTS
        if self.hosts is not None and hosts and \
                hosts[0].strip().lower().decode("latin-1") not in self.hosts:
            return Refusal(
                421, "host_not_allowed",
                f"astra-auth proxy answers only requests addressed to it ({self.address}); "
                "this one names another host, as a web page that rebinds its name to this "
                "machine would",
                f"Send the scanner's requests to {self.address}; to serve other names "
                "(a scanner on another machine), start the proxy with --allow-remote.")
        admitted = bool(origins) and all(
            normalize_origin(o.decode("latin-1")) in self.origins for o in origins)
        if (origins or fetch_site in (b"cross-site", b"same-site")) and not admitted:
            return Refusal(
                403, "cross_origin_refused",
                "astra-auth proxy does not serve web pages: this request comes from one "
                "(Origin or Sec-Fetch-Site), and a page must not use the scanner's credential",
                "To let one origin use it on purpose, start the proxy with "
                "--allow-origin ORIGIN (e.g. --allow-origin http://localhost:3000).")
        return None


def _utf8_text(text: str) -> bool:
    """aiohttp decodes bytes that are not UTF-8 as lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def answer_problem(status: int, fields: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Why an answer from the API is not passed on, or None.  aiohttp's
    answer parser is lenient where it can be without doubt (an obs-fold is
    unfolded, a bare LF ends a line; the proxy writes its own head for the
    scanner in any case); what it leaves ambiguous is refused here."""
    if status == 101:
        return "the API switched protocols unasked"
    if not 100 <= status <= 599:
        return "a status code outside 100 to 599"  # RFC 9110 §15
    size = 16
    lengths = 0
    codings: list[bytes] = []
    for name, value in fields:
        size += len(name) + len(value) + 4
        lowered = name.lower()
        if lowered == b"content-length":
            lengths += 1
        elif lowered == b"transfer-encoding":
            codings.append(value)
        if name != name.strip() or b" " in name or b"\t" in name:
            return "a header field name with whitespace"
        if _CONTROL.search(value):
            return "a header field value with a control character"
        if not value.isascii():
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                # aiohttp's client reads field values as UTF-8: these bytes
                # would reach the scanner altered, so none of it does.
                return "a header field value that is not UTF-8"
    if size > MAX_HEAD:
        return "an answer head larger than 256 KiB"
    if lengths > 1 or (lengths and codings):
        return "an ambiguous body length"
    if codings and (len(codings) > 1 or codings[0].strip().lower() != b"chunked"):
        return "a transfer coding other than chunked"
    return None


def parse_error(exc: BaseException | None) -> Refusal:
    """The refusal for a request aiohttp could not parse (never its text:
    aiohttp's message quotes the request's bytes)."""
    from aiohttp.http_exceptions import LineTooLong

    message = str(getattr(exc, "message", "") or "")
    if isinstance(exc, LineTooLong) or message.startswith("Too many headers"):
        return TOO_LARGE
    # llhttp's reason for a request whose last transfer coding is not chunked.
    if message.startswith("Request has invalid `Transfer-Encoding`"):
        return UNSUPPORTED_CODING
    return NOT_HTTP
