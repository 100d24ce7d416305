"""Judging a token endpoint's answer (RFC 6749 §5.1, §5.2), without I/O.

`classify_response`: the answer as read (status, headers, body, and whether
it was cut off or broken) in, a `Token` or exactly one `Failure` out.
`classify_transport`: an exception raised before a complete answer in, its
`Failure` out.  `seen_tokens`: every credential in an answer, for the caller's
redactor to learn before anything of the answer is shown.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from astra_auth.core.errors import ExitCode
from astra_auth.core.failure import RFC6749_ERRORS, Category, Failure
from astra_auth.net.transport import NotLoopback
from astra_auth.text.redact import Redactor

MAX_BODY = 1024 * 1024  # an answer over 1 MiB is cut off, never read whole

# RFC 6749 Appendix A.12 and A.17: access-token and refresh-token = 1*VSCHAR
# (%x20-7E).  Anything else (a CR LF that would split `token --format header`
# into two header lines, an ESC) makes the answer invalid_token_response.
VSCHAR = re.compile(r"[\x20-\x7e]+")
# A.13 type-name (name-char = "-" / "." / "_" / DIGIT / ALPHA), widened to the
# token68 alphabet of an HTTP auth scheme; it is printed before the token.
TOKEN_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~+/-]{0,39}")
# Fields whose value is a credential, at any depth, in JSON and in form
# bodies: id_token, accessToken, client_secret, password...
TOKEN_KEY = re.compile(r"(?i)(?:[a-z]+[_-]?)?token|.*secret.*|.*password.*|"
                       r"(?:client[_-]?)?assertion|(?:device|user|authorization)[_-]?code|"
                       r"code[_-]?verifier")
# A `"key": "value` pair in JSON text that may be cut off before its end.
JSON_TOKEN_FIELD = re.compile(r'"([A-Za-z_-]{1,40})"\s*:\s*"((?:[^"\\]|\\.)*)')


@dataclass
class RawResponse:
    """An answer as read off the wire, at most `MAX_BODY` of its body."""

    status: int
    reason: str
    # Both as they came: they may hold tokens (Set-Cookie, an echoed secret).
    headers: list[tuple[str, str]] = field(repr=False)
    body: bytes = field(repr=False)
    truncated: bool
    broken: str | None = None  # the connection broke while reading the body
    undecodable: str | None = None  # an encoding not asked for, or a corrupt one


@dataclass
class Token:
    access_token: str = field(repr=False)
    token_type: str
    expires_in: int | None = None
    scope: str | None = None
    refresh_token: str | None = field(default=None, repr=False)
    # Seconds the refresh token itself lives, where the provider says so: not
    # in RFC 6749, but `refresh_token_expires_in` (Entra ID, GitHub) or
    # `refresh_expires_in` (Keycloak).
    refresh_expires_in: int | None = None


def classify_response(raw: RawResponse, redactor: Redactor) -> Token | Failure:
    """The token, or the one failure, that this answer means.

    Reads `redactor` to mask what it shows, never changes it: the caller has
    already taught it every token in the body (`seen_tokens`).  Every value
    from the answer is masked first and cut afterwards (`Redactor.cut`).
    """
    status = raw.status
    headers = {k.lower(): v for k, v in raw.headers}
    text = raw.body.decode("utf-8", errors="replace")
    complete = not (raw.truncated or raw.broken or raw.undecodable)
    data = json_value(text) if complete else None
    oauth_error = oauth_desc = oauth_category = None
    if isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"]:
        # A standard code is shown as it is: it is one of six known words.
        code = data["error"]
        oauth_category = Category(code) if code in RFC6749_ERRORS else Category.OAUTH_ERROR
        oauth_error = code if code in RFC6749_ERRORS else redactor.cut(code, 200)
        desc = data.get("error_description")
        oauth_desc = redactor.cut(str(desc), 1000) if desc is not None else None

    def fail(category: Category, message: str, **details: str) -> Failure:
        return Failure(category, redactor.redact(message), status, oauth_error, oauth_desc,
                       details=dict(details))

    if 300 <= status < 400:
        location = redactor.cut(headers.get("location", "(no Location header)"), 300)
        return fail(
            Category.REDIRECT,
            f"The token URL answered {status} {raw.reason}, a redirect to {location}. "
            "astra-auth does not follow redirects, so the credentials were not sent there.",
            location=location,
        )
    if status == 404:
        return fail(Category.NOT_FOUND, "The token URL answered 404 Not Found: "
                    "no token endpoint at this path.")
    if status == 405:
        allow = headers.get("allow")
        return fail(Category.METHOD_NOT_ALLOWED, "The token URL answered 405 Method Not Allowed: "
                    "it does not accept POST, so it is not a token endpoint"
                    + (f" (it allows {allow})." if allow else "."))
    if status == 429:
        retry = redactor.cut(headers.get("retry-after", ""), 40)
        return fail(Category.RATE_LIMITED, "The provider answered 429 Too Many Requests: "
                    "this client is being rate-limited"
                    + (f" (Retry-After: {retry})." if retry else "."), retry_after=retry)
    if status >= 500:
        return fail(Category.SERVER_ERROR, f"The provider answered {status} {raw.reason}: "
                    "an error on its side, not in this request.")
    if oauth_category is not None and status >= 400:
        return fail(oauth_category, f"The provider rejected the request: {oauth_error}"
                    + (f" — {oauth_desc}" if oauth_desc else ""))
    if raw.broken:
        return fail(Category.CONNECTION_ERROR, "The connection broke before the whole answer "
                    f"(HTTP {status}) arrived: {redactor.cut(raw.broken, 300)}.")
    if raw.undecodable:
        return fail(Category.NOT_JSON, f"The answer (HTTP {status}) cannot be read: "
                    f"{redactor.cut(raw.undecodable, 300)}.")
    if not 200 <= status < 300:
        return fail(Category.HTTP_ERROR, f"The token URL answered HTTP {status} {raw.reason} "
                    "without an OAuth error in the body.")
    if raw.truncated:
        return fail(Category.INVALID_TOKEN_RESPONSE, f"The answer is larger than {MAX_BODY // 1024} KiB; "
                    "a token response is a small JSON object, so it was cut off unread.")
    if data is None:
        html = _looks_like_html(headers.get("content-type", ""), text)
        if html is not None:
            title = redactor.cut(html, 120)
            return fail(Category.NOT_JSON, "The answer is an HTML page"
                        + (f" titled {title!r}" if title else "")
                        + ", not JSON: this URL looks like a login or web page, "
                        "not a token endpoint.", html="yes")
        kind = headers.get("content-type", "no Content-Type")
        return fail(Category.NOT_JSON,
                    f"The answer (HTTP {status}, {redactor.cut(kind, 80)}) is not JSON.")
    if not isinstance(data, dict):
        return fail(Category.INVALID_TOKEN_RESPONSE, "The answer is JSON but not an object.")
    if oauth_category is not None:
        return fail(oauth_category, f"The provider answered HTTP {status} with an error: {oauth_error}"
                    + (f" — {oauth_desc}" if oauth_desc else ""))
    access_token = data.get("access_token")
    token_type = data.get("token_type")
    missing = [k for k, v in (("access_token", access_token), ("token_type", token_type))
               if not isinstance(v, str) or not v]
    if missing:
        present = ", ".join(sorted(redactor.cut(str(k), 40) for k in data)[:12]) or "none"
        return fail(Category.INVALID_TOKEN_RESPONSE, "The answer is JSON but lacks a usable "
                    f"{' and '.join(missing)} (fields present: {present}).")
    assert isinstance(access_token, str) and isinstance(token_type, str)
    refresh = data.get("refresh_token")
    if not VSCHAR.fullmatch(access_token):
        return fail(Category.INVALID_TOKEN_RESPONSE, "The access_token contains characters that "
                    "RFC 6749 does not allow in a token (only visible ASCII and spaces): "
                    "a line break or control character in it could forge a header line, "
                    "so it is not used.")
    if not TOKEN_TYPE.fullmatch(token_type):
        return fail(Category.INVALID_TOKEN_RESPONSE, "The token_type is not a plain word "
                    f"(RFC 6749 §7.1): {redactor.cut(token_type, 40)!r} is not used.")
    if refresh is not None and not (isinstance(refresh, str) and VSCHAR.fullmatch(refresh)):
        return fail(Category.INVALID_TOKEN_RESPONSE, "The refresh_token is not a string of visible "
                    "ASCII characters (RFC 6749 Appendix A.17), so the answer is not used.")
    scope = data.get("scope")
    return Token(
        access_token=access_token,
        token_type=token_type,
        expires_in=_expires_in(data.get("expires_in")),
        scope=redactor.cut(scope, 2000) if isinstance(scope, str) else None,
        refresh_token=refresh or None,
        refresh_expires_in=_expires_in(data.get("refresh_token_expires_in",
                                                data.get("refresh_expires_in"))),
    )


def _expires_in(value: object) -> int | None:
    # Some providers send the number as a string ("3600"); accept both.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def json_value(text: str) -> Any:
    """The JSON object or array `text` holds, else None (a body that does not
    start like one is not parsed at all)."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return None


def _looks_like_html(content_type: str, text: str) -> str | None:
    """The page title (maybe "") when the body is HTML, else None."""
    head = text.lstrip()[:512].lower()
    if "html" not in content_type.lower() and not head.startswith(("<!doctype html", "<html")):
        return None
    match = re.search(r"<title[^>]*>(.*?)</title>", text[:65536], re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""


# ---------------------------------------------------------------------------
# What to mask


def seen_tokens(body: bytes) -> Iterator[str]:
    """Every credential-named value in an answer: in JSON at any depth, in a
    form-encoded body, and in a body too large or broken to parse (by pattern)."""
    text = body.decode("utf-8", errors="replace")
    data = json_value(text)
    if data is not None:
        yield from _token_values(data)
        return
    if "=" in text and not text.lstrip().startswith("{"):
        for key, value in parse_qsl(text.strip(), keep_blank_values=False):
            if TOKEN_KEY.fullmatch(key):
                yield value
    for match in JSON_TOKEN_FIELD.finditer(text):
        if TOKEN_KEY.fullmatch(match.group(1)):
            yield match.group(2)


def _token_values(data: Any, depth: int = 0) -> Iterator[str]:
    if depth > 64:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and isinstance(key, str) and TOKEN_KEY.fullmatch(key):
                yield value
            else:
                yield from _token_values(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            yield from _token_values(item, depth + 1)


# ---------------------------------------------------------------------------
# No complete answer


def classify_transport(exc: BaseException, url: str, timeout: float, redactor: Redactor) -> Failure:
    """A failure before a complete HTTP answer: DNS, refused, broken, timeout, TLS."""
    import httpx

    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if isinstance(exc, NotLoopback):
        # Refused before connecting: plain http goes only to loopback.
        # The URL passed the loopback rule by its name (it came from the
        # config file): a configuration problem, exit 3.
        return Failure(Category.INSECURE_URL, redactor.cut(
            f"astra-auth did not connect: the URL uses plain http, and {exc}. Credentials "
            "cross the network in clear text over http, so it is allowed only to a host "
            "that resolves to loopback addresses.", 600), details={"not_loopback": "yes"},
            exit=ExitCode.CONFIG)
    chain = _chain(exc)
    ssl_error = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if ssl_error is not None or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        reason = redactor.cut(_tls_reason(ssl_error) if ssl_error else first_line(exc), 300)
        return Failure(Category.TLS_ERROR,
                       f"The TLS connection to {host} failed: {reason.rstrip('.')}.",
                       details={"tls_reason": reason})
    if isinstance(exc, httpx.TimeoutException) or any(isinstance(e, TimeoutError) for e in chain):
        return Failure(Category.TIMEOUT,
                       f"No complete answer from {host} within {timeout:g} seconds.")
    if any(isinstance(e, socket.gaierror) for e in chain) or _looks_like_dns(exc):
        return Failure(Category.DNS_ERROR,
                       f"The host name {host} does not resolve (DNS lookup failed).")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in str(exc).lower():
        return Failure(Category.CONNECTION_REFUSED,
                       f"Nothing accepts connections at {host}:{port} (connection refused).")
    reason = redactor.cut(first_line(exc), 300)
    if isinstance(exc, httpx.ProxyError):
        return Failure(Category.CONNECTION_ERROR,
                       f"The proxy could not connect to {host}: {reason}.")
    # Reset, cut off, unreachable network, a protocol violation, or anything
    # else: the connection did not carry a complete answer.  Nothing here says
    # that nobody listens, so it is never `connection_refused`.
    return Failure(Category.CONNECTION_ERROR, f"The connection to {host}:{port} broke before "
                   f"a complete answer: {type(exc).__name__}: {reason}.")


def client_certificate_refused(broke: Failure, url: str) -> Failure:
    """A failure while presenting a client certificate, as `tls_error`.

    With TLS 1.3 the server checks the client's certificate after the client
    has finished its side of the handshake: a refusal then reaches the client
    as a connection closed before any answer (or as an alert on the first
    read), not as a handshake error.  Either is `tls_error`, said so.
    """
    if broke.category == Category.TLS_ERROR:
        broke.details["client_certificate"] = "presented"
        return broke
    if broke.category != Category.CONNECTION_ERROR:
        return broke
    host = urlsplit(url).hostname or "?"
    return Failure(Category.TLS_ERROR,
                   f"The TLS connection to {host} was closed before any answer, right after "
                   "this client presented its certificate: the server most likely refused "
                   "the client certificate.",
                   details={"client_certificate": "presented", "tls_reason": "closed"})


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _looks_like_dns(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("name or service not known", "nodename nor servname",
                                   "temporary failure in name resolution", "no address associated",
                                   "getaddrinfo failed", "name resolution"))


def _tls_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    return exc.reason or first_line(exc)


def first_line(exc: BaseException) -> str:
    """The exception's first line, whole: callers mask it, then cut it."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
