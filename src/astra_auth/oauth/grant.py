"""Performing a token request (RFC 6749 §4.3, §4.4, §6): the I/O.

`request_token` is the one implementation of the grant: `test-token` reports
its outcome, `token` caches it, and `astra_auth.auth_for` uses it for scanners.
It builds the request with `token_request`, sends it, reads a bounded answer,
and judges it with `token_response`.  It never raises for anything the network
or the provider does: every answer ends in a `Token` or in exactly one
`Failure` category.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from astra_auth.core.failure import Category, Failure
from astra_auth.net.transport import Deadline, pin_loopback
from astra_auth.oauth.client_auth import KeyProblem
from astra_auth.oauth.token_request import GrantRequest, assertion_key_names
from astra_auth.oauth.token_response import (
    MAX_BODY,
    RawResponse,
    Token,
    classify_response,
    classify_transport,
    client_certificate_refused,
    first_line,
    seen_tokens,
)
from astra_auth.text.redact import Redactor

if TYPE_CHECKING:
    import httpx

OTHER_METHOD = {"basic": "post", "post": "basic"}


@dataclass
class Exchange:
    """One attempt at the token endpoint: what was sent and what came back.

    It holds the secrets sent and the tokens received as they are: whoever
    shows it masks them with the outcome's `redactor`."""

    client_auth: str
    url: str
    # None: the request could not be built (a key that cannot sign).
    headers: dict[str, str] | None = field(default=None, repr=False)
    form: dict[str, str] | None = field(default=None, repr=False)
    response: RawResponse | None = field(default=None, repr=False)
    # Without a response: whether the request went out, and why nothing came back.
    sent: bool = False
    failure: Failure | None = None
    # DPoP: the provider asked for its nonce (RFC 9449 §8) and the request was
    # sent once more with it; what is kept here is that second request.
    dpop_nonce_retried: bool = False


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
    # caller shows of this outcome (its exchanges, JWT claims) goes through it.
    redactor: Redactor = field(default_factory=Redactor, repr=False)

    @property
    def ok(self) -> bool:
        return self.token is not None


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
    exchange = Exchange(req.client_auth, req.token_url)
    exchanges.append(exchange)
    # At most twice: once more only when the provider asks for a DPoP nonce.
    for attempt in range(2):
        try:
            headers, form = req.headers_and_form()
        except KeyProblem as exc:  # a key that cannot sign
            exchange.failure = exc.failure
            return None, exc.failure, None
        if "client_assertion" in form:
            redactor.add(form["client_assertion"])
        exchange.headers, exchange.form = headers, form
        try:
            # Plain http only to what resolves to loopback; the request then goes
            # to the address that was checked.
            url, pinned = pin_loopback(req.token_url, deadline)
            raw = deadline.run(partial(post_form, make_client, url, {**headers, **pinned}, form,
                                       deadline))
        except Exception as exc:  # noqa: BLE001 - every transport failure is classified
            if isinstance(exc, KeyProblem):
                exchange.failure = exc.failure
                return None, exc.failure, None
            broke = classify_transport(exc, req.token_url, deadline.seconds, redactor)
            if req.tls_identity is not None:
                broke = client_certificate_refused(broke, req.token_url)
            exchange.sent, exchange.failure = True, broke
            return None, broke, None
        exchange.sent, exchange.response = True, raw
        if _wants_dpop_nonce(req, raw) and attempt == 0 and not deadline.expired:
            exchange.dpop_nonce_retried = True
            continue
        break
    # Every token in the answer, wherever it is and whether or not the answer
    # is usable, is masked from here on: in messages, --verbose and claims.
    for value in seen_tokens(raw.body):
        redactor.add(value)
    judged = classify_response(raw, redactor)
    if isinstance(judged, Token):
        return judged, None, raw.status
    if "client_assertion" in form:
        # Which key the assertion named, for the invalid_client hints.
        judged.details.update(assertion_key_names(form["client_assertion"]))
    return None, judged, raw.status


def _wants_dpop_nonce(req: GrantRequest, raw: RawResponse) -> bool:
    """Whether the provider refused the proof for want of its nonce (RFC 9449
    §8: `use_dpop_nonce` with a `DPoP-Nonce` header), which is kept."""
    if req.dpop is None:
        return False
    from astra_auth.signing.dpop import wants_nonce
    from astra_auth.signing.message import Request, Response

    answer = Response(raw.status, tuple(raw.headers), raw.body)
    nonce = req.dpop.observe(Request("POST", req.token_url), answer)
    return nonce is not None and wants_nonce(answer)


def post_form(
    make_client: Callable[[], httpx.Client], url: str, headers: dict[str, str],
    form: dict[str, str], deadline: Deadline,
) -> RawResponse:
    """POST a form with a fresh client; the answer's body read up to MAX_BODY."""
    with make_client() as client:
        return _read(client, url, headers, form, deadline)


def _read(
    client: httpx.Client, url: str, headers: dict[str, str], form: dict[str, str],
    deadline: Deadline,
) -> RawResponse:
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
            broken = first_line(exc) or type(exc).__name__
        except zlib.error:
            undecodable = f"the {encoding} body could not be decompressed"
        if encoding not in ("identity", "", "gzip", "deflate", "x-gzip"):
            undecodable = f"the answer uses content encoding {encoding!r}, which was not asked for"
        return RawResponse(
            status=response.status_code,
            reason=response.reason_phrase,
            headers=list(response.headers.multi_items()),
            body=bytes(body),
            truncated=truncated,
            broken=broken,
            undecodable=undecodable,
        )


def _decoder(encoding: str) -> Any:
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None
