"""AWS Signature Version 4 for every request (API Gateway IAM auth, any SigV4 service).

The canonical request, the string to sign, the signing-key derivation and the
signature are botocore's own (`botocore.auth.SigV4Auth`, and `S3SigV4Auth` for
the service `s3`, which encodes the path once where every other service
encodes it twice): the reference implementation that AWS's SDK for Python
signs with.  This module only decides what goes into it:

- The time comes from the injected clock (botocore reads the system clock in
  `add_auth`, so the steps it is made of are called here with the request's
  `timestamp`, which is how botocore's own signers pass it on).
- Signed headers: `host`, `content-type` and every `x-amz-*` header, the ones
  AWS requires or recommends signing ("Create a canonical request", AWS
  Signature Version 4 documentation).  Other headers are left unsigned, so that
  a header the scanner, the proxy or a CDN changes (`user-agent`,
  `accept-encoding`, `connection`) cannot break the signature.
- `x-amz-content-sha256` is always sent and signed: the body's SHA-256, or
  `UNSIGNED-PAYLOAD` for a body that streams (`Request.body` is None).
- The query is signed as AWS defines it: each name and value percent-decoded
  (RFC 3986: a `+` is a plus, not a space), encoded again by botocore and
  sorted, so that a scanner's own spelling of the query cannot break it.
- A session token goes into `X-Amz-Security-Token` (and is signed); without
  one, a `X-Amz-Security-Token` the client sent is removed.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from astra_auth.signing.message import HeaderUpdate, Request, Response, SigningError

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
ALGORITHM = "AWS4-HMAC-SHA256"
# The headers this module writes; any the client sent are replaced.
_OWN = frozenset({"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"})
# Region and service names as AWS spells them (eu-west-1, execute-api).
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


class SigV4Signer:
    """Signs each request for one access key, region and service."""

    needs_body = True

    def __init__(self, credentials: AwsCredentials, region: str, service: str,
                 clock: Callable[[], float] = time.time) -> None:
        for what, value in (("region", region), ("service", service)):
            if not _NAME.fullmatch(value):
                raise SigningError(f"The AWS {what} {value!r} is not a valid name "
                                   f"(lower-case letters, digits and '-', as in 'eu-west-1').")
        if not re.fullmatch(r"[A-Za-z0-9]{4,128}", credentials.access_key_id):
            raise SigningError("The AWS access key ID must be letters and digits (AKIA…, ASIA…).")
        for what, secret in (("secret access key", credentials.secret_access_key),
                             ("session token", credentials.session_token or "x")):
            if not secret or not secret.isascii() or not secret.isprintable():
                raise SigningError(f"The AWS {what} must be printable ASCII.")
        from botocore.auth import S3SigV4Auth, SigV4Auth  # type: ignore[import-untyped]
        from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]

        kind = S3SigV4Auth if service == "s3" else SigV4Auth
        self._auth: Any = kind(ReadOnlyCredentials(credentials.access_key_id,
                                                   credentials.secret_access_key,
                                                   credentials.session_token),
                               service, region)
        self._token = credentials.session_token
        self._clock = clock

    def sign(self, request: Request) -> HeaderUpdate:
        from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]

        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SigningError("Only an absolute http(s) URL can be signed with AWS SigV4.")
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%SZ")
        payload = (UNSIGNED_PAYLOAD if request.body is None
                   else hashlib.sha256(request.body).hexdigest())
        signed: dict[str, str] = {}
        for name, _ in request.headers:
            lowered = name.lower()
            if lowered in signed or lowered in _OWN:
                continue
            if lowered in ("host", "content-type") or lowered.startswith("x-amz-"):
                signed[lowered] = request.header(lowered) or ""
        # Without a Host header, botocore signs the host the URL names, as an
        # HTTP client sends it.
        signed["x-amz-date"] = stamp
        signed["x-amz-content-sha256"] = payload
        if self._token is not None:
            signed["x-amz-security-token"] = self._token
        aws = AWSRequest(method=request.method.upper(),
                         url=urlunsplit(parts._replace(query="", fragment="")),
                         headers=signed, params=_query_pairs(parts.query))
        aws.context["timestamp"] = stamp
        auth = self._auth
        canonical = auth.canonical_request(aws)
        signature = auth.signature(auth.string_to_sign(aws, canonical), aws)
        names = auth.signed_headers(auth.headers_to_sign(aws))
        return {
            "Authorization": f"{ALGORITHM} Credential={auth.scope(aws)}, "
                             f"SignedHeaders={names}, Signature={signature}",
            "X-Amz-Date": stamp,
            "X-Amz-Content-SHA256": payload,
            "X-Amz-Security-Token": self._token,
        }

    def challenge(self, request: Request, response: Response) -> HeaderUpdate | None:
        # A refused signature is refused again: nothing in a 403 says what to change.
        return None


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's name/value pairs, percent-decoded (RFC 3986), in their order."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs
