"""Performing a token request (RFC 6749 §4.3, §4.4, §6) and judging the answer.

`request_token` is the one implementation of the grant: `test-token` reports
its outcome, `token` caches it, and `astra_auth.auth_for` uses it for scanners.
It never raises for anything the network or the provider does: every answer
ends in a `Token` or in exactly one `Failure` category.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

from astra_auth.core.failure import RFC6749_ERRORS, Category, Failure
from astra_auth.net.transport import Deadline, NotLoopback, pin_loopback
from astra_auth.text.redact import MASK, Redactor

if TYPE_CHECKING:
    import httpx

    from astra_auth.oauth.client_auth import ClientKey

MAX_BODY = 1024 * 1024  # an answer over 1 MiB is cut off, never read whole
SHOWN_BODY = 4096  # how much of a body --verbose shows
OTHER_METHOD = {"basic": "post", "post": "basic"}
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# RFC 8628 §3.4: the device grant's name on the wire is a URN.
FORM_GRANT_TYPES = {"device_code": "urn:ietf:params:oauth:grant-type:device_code"}

# RFC 6749 Appendix A.12 and A.17: access-token and refresh-token = 1*VSCHAR
# (%x20-7E).  Anything else (a CR LF that would split `token --format header`
# into two header lines, an ESC) makes the answer invalid_token_response.
VSCHAR = re.compile(r"[\x20-\x7e]+")
# A.13 type-name (name-char = "-" / "." / "_" / DIGIT / ALPHA), widened to the
# token68 alphabet of an HTTP auth scheme; it is printed before the token.
TOKEN_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~+/-]{0,39}")
# Fields whose value is a credential, masked by name in --verbose at any depth,
# in JSON and in form bodies: id_token, accessToken, client_secret, password...
TOKEN_KEY = re.compile(r"(?i)(?:[a-z]+[_-]?)?token|.*secret.*|.*password.*|"
                       r"(?:client[_-]?)?assertion|(?:device|user|authorization)[_-]?code|"
                       r"code[_-]?verifier")


@dataclass
class GrantRequest:
    token_url: str
    # "client_credentials", "password", "refresh_token", "device_code" or
    # "authorization_code" (the config's names; `FORM_GRANT_TYPES` has the wire's)
    grant_type: str
    client_id: str
    client_secret: str = field(repr=False)
    client_auth: str = "basic"
    scope: str | None = None
    audience: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    # --- issue 12: enterprise clients ---
    extra_params: dict[str, str] = field(default_factory=dict)
    # private_key_jwt and tls_client_auth: the client's key (and certificate).
    client_key: ClientKey | None = field(default=None, repr=False)
    assertion_alg: str = "RS256"
    assertion_audience: str | None = None  # None: the token URL
    # The clock an assertion's iat and exp come from.
    clock: Callable[[], float] = field(default=time.time, repr=False)
    # The key whose certificate the TLS connection presents (tls_client_auth,
    # certificate-bound tokens); the caller's client factory uses it.
    tls_identity: ClientKey | None = field(default=None, repr=False)

    def client_assertion(self) -> str:
        """A fresh private_key_jwt assertion (one per request: its jti is single-use)."""
        assert self.client_key is not None
        return self.client_key.assertion(
            client_id=self.client_id, audience=self.assertion_audience or self.token_url,
            alg=self.assertion_alg, now=self.clock())
    # device_code (RFC 8628 §3.4) and authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5)
    device_code: str | None = field(default=None, repr=False)
    code: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None
    code_verifier: str | None = field(default=None, repr=False)

    def headers_and_form(self) -> tuple[dict[str, str], dict[str, str]]:
        form = {"grant_type": FORM_GRANT_TYPES.get(self.grant_type, self.grant_type)}
        if self.grant_type == "password":
            form["username"] = self.username or ""
            form["password"] = self.password or ""
        if self.grant_type == "refresh_token":
            form["refresh_token"] = self.refresh_token or ""
        if self.grant_type == "device_code":
            form["device_code"] = self.device_code or ""
        if self.grant_type == "authorization_code":
            form["code"] = self.code or ""
            form["redirect_uri"] = self.redirect_uri or ""
            form["code_verifier"] = self.code_verifier or ""
        if self.scope:
            form["scope"] = self.scope
        if self.audience:
            form["audience"] = self.audience
        headers = {
            "Accept": "application/json",
            # Ask for an uncompressed answer: the size limit then holds for what
            # is read off the wire and for what it expands to.
            "Accept-Encoding": "identity",
        }
        # One client-authentication method per request: some providers
        # (Okta among them) reject a request that carries both.
        if self.client_auth == "basic":
            # RFC 6749 §2.3.1: form-urlencode ID and secret before Base64.
            pair = f"{quote_plus(self.client_id, safe='')}:{quote_plus(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif self.client_auth == "post":
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret
        elif self.client_auth == "private_key_jwt":
            # RFC 7523 §2.2; client_id too, which most providers want (OIDC Core §9).
            form["client_id"] = self.client_id
            form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
            form["client_assertion"] = self.client_assertion()
        else:
            # tls_client_auth (RFC 8705 §2: the certificate authenticates) and
            # none (a public client, RFC 6749 §2.1): the client ID alone.
            form["client_id"] = self.client_id
        # Extra parameters never replace the request's own fields.
        for name, value in self.extra_params.items():
            form.setdefault(name, value)
        return headers, form

    def redactor(self) -> Redactor:
        r = Redactor(self.client_secret, self.password, self.refresh_token, self.device_code,
                     self.code, self.code_verifier)
        r.add_basic(self.client_id, self.client_secret)
        return r


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


@dataclass
class Exchange:
    """One HTTP attempt as --verbose shows it: already redacted."""

    client_auth: str
    request: list[str]
    response: list[str]


@dataclass
class Outcome:
    token: Token | None
    failure: Failure | None
    http_status: int | None
    client_auth: str
    exchanges: list[Exchange]
    elapsed_ms: int
    # The configured method failed and the other one worked.
    switched_client_auth: bool = False
    # Masks every secret sent and every token seen in the answers: whatever the
    # caller shows of this outcome (JWT claims, say) goes through it.
    redactor: Redactor = field(default_factory=Redactor, repr=False)

    @property
    def ok(self) -> bool:
        return self.token is not None


@dataclass
class _Raw:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    broken: str | None = None  # the connection broke while reading the body
    undecodable: str | None = None  # an encoding not asked for, or a corrupt one


def request_token(
    req: GrantRequest,
    make_client: Callable[[], httpx.Client],
    *,
    timeout: float,
    deadline: Deadline | None = None,
    try_other_client_auth: bool = True,
    monotonic: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Perform the grant; on `invalid_client` or a bare 401, try the other
    client-authentication method once (RFC 6749 §2.3.1 allows either).

    Both attempts together end by `deadline` (default: `timeout` seconds from
    now).  The outcome's `redactor` knows every secret sent and token seen."""
    deadline = deadline or Deadline(timeout)
    redactor = req.redactor()
    started = monotonic()
    exchanges: list[Exchange] = []
    token, failure, status = _attempt(req, make_client, deadline, redactor, exchanges)
    outcome = Outcome(token, failure, status, req.client_auth, exchanges, 0, redactor=redactor)
    if (
        failure is not None
        and try_other_client_auth
        and req.client_auth in OTHER_METHOD
        and (failure.category == Category.INVALID_CLIENT
             or (status == 401 and not failure.oauth_error))
        and not deadline.expired
    ):
        other = replace(req, client_auth=OTHER_METHOD[req.client_auth])
        redactor.merge(other.redactor())
        token2, failure2, status2 = _attempt(other, make_client, deadline, redactor, exchanges)
        if token2 is not None:
            outcome = Outcome(token2, None, status2, other.client_auth, exchanges, 0,
                              switched_client_auth=True, redactor=redactor)
        else:
            failure.details["other_client_auth"] = other.client_auth
            failure.details["other_client_auth_result"] = (
                failure2.oauth_error or failure2.category if failure2 else "unknown"
            )
    outcome.elapsed_ms = int((monotonic() - started) * 1000)
    return outcome


def _attempt(
    req: GrantRequest,
    make_client: Callable[[], httpx.Client],
    deadline: Deadline,
    redactor: Redactor,
    exchanges: list[Exchange],
) -> tuple[Token | None, Failure | None, int | None]:
    try:
        headers, form = req.headers_and_form()
    except Exception as exc:  # noqa: BLE001 - a key that cannot sign
        from astra_auth.oauth.client_auth import KeyProblem

        if not isinstance(exc, KeyProblem):
            raise
        exchanges.append(Exchange(req.client_auth, [f"POST {req.token_url}"],
                                  [f"(not sent: {exc.failure.message})"]))
        return None, exc.failure, None
    if "client_assertion" in form:
        redactor.add(form["client_assertion"])
    exchange = Exchange(req.client_auth, _show_request(req, headers, form, redactor), [])
    exchanges.append(exchange)
    try:
        # Plain http only to what resolves to loopback; the request then goes
        # to the address that was checked.
        url, pinned = pin_loopback(req.token_url, deadline)
        raw = deadline.run(lambda: _post(make_client, url, {**headers, **pinned}, form,
                                         deadline))
    except Exception as exc:  # noqa: BLE001 - every transport failure is classified
        from astra_auth.oauth.client_auth import KeyProblem

        if isinstance(exc, KeyProblem):
            exchange.response = [f"(not sent: {exc.failure.message})"]
            return None, exc.failure, None
        broke = classify_transport(exc, req.token_url, deadline.seconds, redactor)
        if req.tls_identity is not None:
            broke = _client_certificate_refused(broke, req.token_url)
        exchange.response = [f"(no answer: {broke.category}: {broke.message})"]
        return None, broke, None
    # Every token in the answer, wherever it is and whether or not the answer
    # is usable, is masked from here on: in messages, --verbose and claims.
    for value in seen_tokens(raw.body):
        redactor.add(value)
    token, failure = classify_response(raw, redactor)
    if failure is not None and "client_assertion" in form:
        # Which key the assertion named, for the invalid_client hints.
        failure.details.update(_key_names(form["client_assertion"]))
    exchange.response = _show_response(raw, redactor)
    return token, failure, raw.status


def _post(
    make_client: Callable[[], httpx.Client], url: str, headers: dict[str, str],
    form: dict[str, str], deadline: Deadline,
) -> _Raw:
    with make_client() as client:
        return _read(client, url, headers, form, deadline)


def _read(
    client: httpx.Client, url: str, headers: dict[str, str], form: dict[str, str],
    deadline: Deadline,
) -> _Raw:
    import httpx

    with client.stream("POST", url, headers=headers, data=form) as response:
        encoding = response.headers.get("content-encoding", "identity").lower().strip()
        decoder = _decoder(encoding)
        body = bytearray()
        truncated = False
        broken = undecodable = None
        try:
            for chunk in response.iter_raw():
                deadline.check()
                if decoder is not None:
                    # max_length bounds what a small compressed chunk expands to.
                    chunk = decoder.decompress(chunk, MAX_BODY + 1 - len(body))
                body += chunk
                if len(body) > MAX_BODY:
                    truncated = True
                    del body[MAX_BODY:]
                    break
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            broken = _first_line(exc) or type(exc).__name__
        except zlib.error:
            undecodable = f"the {encoding} body could not be decompressed"
        if encoding not in ("identity", "", "gzip", "deflate", "x-gzip"):
            undecodable = f"the answer uses content encoding {encoding!r}, which was not asked for"
        return _Raw(
            status=response.status_code,
            reason=response.reason_phrase,
            headers=list(response.headers.multi_items()),
            body=bytes(body),
            truncated=truncated,
            broken=broken,
            undecodable=undecodable,
        )


def _client_certificate_refused(broke: Failure, url: str) -> Failure:
    """A failure while presenting a client certificate, as the contract sees it.

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


def _key_names(assertion: str) -> dict[str, str]:
    """The `kid` or `x5t#S256` in a client assertion's header (public values)."""
    from astra_auth.oauth import unverified_jwt as jwt
    header = jwt.header(assertion) or {}
    return {name: header[name] for name in ("kid", "x5t#S256")
            if isinstance(header.get(name), str)}


def _decoder(encoding: str) -> Any:
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None


# ---------------------------------------------------------------------------
# Classification


def classify_transport(exc: BaseException, url: str, timeout: float, redactor: Redactor) -> Failure:
    """A failure before a complete HTTP answer: DNS, refused, broken, timeout, TLS."""
    import httpx

    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if isinstance(exc, NotLoopback):
        # Refused before connecting: plain http goes only to loopback.
        return Failure(Category.CONNECTION_REFUSED, redactor.cut(
            f"astra-auth did not connect: the URL uses plain http, and {exc}. Credentials "
            "cross the network in clear text over http, so it is allowed only to a host "
            "that resolves to loopback addresses.", 600), details={"not_loopback": "yes"})
    chain = _chain(exc)
    ssl_error = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if ssl_error is not None or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        reason = redactor.cut(_tls_reason(ssl_error) if ssl_error else _first_line(exc), 300)
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
    reason = redactor.cut(_first_line(exc), 300)
    if isinstance(exc, httpx.ProxyError):
        return Failure(Category.CONNECTION_ERROR,
                       f"The proxy could not connect to {host}: {reason}.")
    # Reset, cut off, unreachable network, a protocol violation, or anything
    # else: the connection did not carry a complete answer.  Nothing here says
    # that nobody listens, so it is never `connection_refused`.
    return Failure(Category.CONNECTION_ERROR, f"The connection to {host}:{port} broke before "
                   f"a complete answer: {type(exc).__name__}: {reason}.")


def classify_response(raw: _Raw, redactor: Redactor) -> tuple[Token | None, Failure | None]:
    """The token, or the one failure, that this answer means.

    Reads `redactor` to mask what it shows, never changes it: the caller has
    already taught it every token in the body (`seen_tokens`).  Every value
    from the answer is masked first and cut afterwards (`Redactor.cut`).
    """
    status = raw.status
    headers = {k.lower(): v for k, v in raw.headers}
    text = raw.body.decode("utf-8", errors="replace")
    complete = not (raw.truncated or raw.broken or raw.undecodable)
    data = _json_object(text) if complete else None
    oauth_error = oauth_desc = oauth_category = None
    if isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"]:
        # A standard code is shown as it is: it is one of six known words.
        code = data["error"]
        oauth_category = Category(code) if code in RFC6749_ERRORS else Category.OAUTH_ERROR
        oauth_error = code if code in RFC6749_ERRORS else redactor.cut(code, 200)
        desc = data.get("error_description")
        oauth_desc = redactor.cut(str(desc), 1000) if desc is not None else None

    def fail(category: Category, message: str, **details: str) -> tuple[None, Failure]:
        return None, Failure(category, redactor.redact(message), status, oauth_error, oauth_desc,
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
        retry = headers.get("retry-after")
        return fail(Category.RATE_LIMITED, "The provider answered 429 Too Many Requests: "
                    "this client is being rate-limited"
                    + (f" (Retry-After: {redactor.cut(retry, 40)})." if retry else "."),
                    retry_after=redactor.cut(retry or "", 40))
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
    ), None


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


def _json_object(text: str) -> Any:
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
    return exc.reason or _first_line(exc)


def seen_tokens(body: bytes) -> Iterator[str]:
    """Every credential-named value in an answer: in JSON at any depth, in a
    form-encoded body, and in a body too large or broken to parse (by pattern)."""
    text = body.decode("utf-8", errors="replace")
    data = _json_object(text)
    if data is not None:
        yield from _token_values(data)
        return
    if "=" in text and "{" not in text[:1]:
        for key, value in parse_qsl(text.strip(), keep_blank_values=False):
            if TOKEN_KEY.fullmatch(key):
                yield value
    for match in _JSON_TOKEN_FIELD.finditer(text):
        if TOKEN_KEY.fullmatch(match.group(1)):
            yield match.group(2)


# A `"key": "value` pair in JSON text that may be cut off before its end.
_JSON_TOKEN_FIELD = re.compile(r'"([A-Za-z_-]{1,40})"\s*:\s*"((?:[^"\\]|\\.)*)')


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


def _mask_by_key(data: Any, depth: int = 0) -> Any:
    if depth > 64:
        return MASK
    if isinstance(data, dict):
        return {k: (MASK if isinstance(k, str) and TOKEN_KEY.fullmatch(k)
                    and isinstance(v, str) else _mask_by_key(v, depth + 1))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_mask_by_key(item, depth + 1) for item in data]
    return data


def _first_line(exc: BaseException) -> str:
    """The exception's first line, whole: callers mask it, then cut it."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------
# --verbose


def _show_request(
    req: GrantRequest, headers: dict[str, str], form: dict[str, str], redactor: Redactor
) -> list[str]:
    lines = [f"POST {req.token_url}"]
    for name, value in headers.items():
        if name.lower() == "authorization":
            value = value.split(" ", 1)[0] + " " + MASK
        lines.append(f"{name}: {value}")
    lines.append("Content-Type: application/x-www-form-urlencoded")
    shown = "&".join(
        f"{k}=" + (MASK if TOKEN_KEY.fullmatch(k) else quote_plus(v, safe=""))
        for k, v in form.items()
    )
    lines.append("")
    lines.append(redactor.redact(shown))
    return lines


SENSITIVE_HEADERS = ("set-cookie", "authorization", "proxy-authorization", "cookie")
_FORM_FIELD = re.compile(r"(^|&)([^=&\s]{1,40})=([^&\s]*)", re.MULTILINE)


def _show_response(raw: _Raw, redactor: Redactor) -> list[str]:
    """The answer for --verbose: credential-named fields masked by name at any
    depth (JSON and form bodies), every known secret and token masked by value
    in the whole body, and only then cut to SHOWN_BODY."""
    lines = [f"HTTP {redactor.cut(f'{raw.status} {raw.reason}', 200)}"]
    for name, value in raw.headers:
        shown = MASK if name.lower() in SENSITIVE_HEADERS else value
        lines.append(redactor.cut(f"{name}: {shown}", 500))
    lines.append("")
    text = raw.body.decode("utf-8", errors="replace")
    data = _json_object(text) if not raw.truncated else None
    if isinstance(data, dict | list):
        text = json.dumps(_mask_by_key(data), indent=2, ensure_ascii=False)
    else:
        text = _JSON_TOKEN_FIELD.sub(
            lambda m: m.group() if not TOKEN_KEY.fullmatch(m.group(1))
            else m.group()[: m.start(2) - m.start()] + MASK, text)
        text = _FORM_FIELD.sub(
            lambda m: m.group() if not TOKEN_KEY.fullmatch(m.group(2))
            else f"{m.group(1)}{m.group(2)}={MASK}", text)
    lines.append(redactor.cut(text, SHOWN_BODY))
    if len(raw.body) > SHOWN_BODY or raw.truncated:
        lines.append(f"… ({len(raw.body)} bytes read{', cut off at 1 MiB' if raw.truncated else ''})")
    if raw.broken:
        lines.append(f"(connection broke: {raw.broken})")
    if raw.undecodable:
        lines.append(f"({raw.undecodable})")
    return lines
