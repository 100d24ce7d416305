"""DPoP (RFC 9449): a proof of possession of one key on every token and API request.

Proofs are JWTs signed with joserfc (as the `jwt` auth type's tokens are),
imported only here.  Each carries (RFC 9449 §4.2) `typ: dpop+jwt`, the `alg`,
the public `jwk`; and the claims `jti` (random, never reused), `htm` (the
method), `htu` (the URL without query and fragment), `iat` (the injected
clock), `ath` (the access token's SHA-256, for API requests, §4.3) and `nonce`
when the server gave one.

Nonces (§8, §9) are kept per server (origin: the token endpoint's and the
API's are different servers): a `DPoP-Nonce` header on any answer replaces
that server's nonce, and an answer that refuses a proof for want of one —
`400 {"error": "use_dpop_nonce"}` from a token endpoint (§8), `401` with
`WWW-Authenticate: DPoP error="use_dpop_nonce"` from an API (§9) — is
answered by a fresh proof with the new nonce, once (the caller retries once).

Key algorithms: ES256 (P-256, the default), PS256 and RS256 (RSA, 2048 bits
or more), EdDSA (Ed25519).  The key's RFC 7638 thumbprint is the `jkt` a
DPoP-bound token's `cnf` names (§6.1).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from astra_auth.signing.message import (
    HeaderUpdate,
    InvalidKey,
    Request,
    Response,
    SigningError,
)

ALGORITHMS = ("ES256", "PS256", "RS256", "EdDSA")
DEFAULT_ALGORITHM = "ES256"
NONCE_ERROR = "use_dpop_nonce"
# An auth-param `error=...` of a WWW-Authenticate value (RFC 9110 §11.6.1).
_ERROR_PARAM = re.compile(r'(?:^|[\s,])error\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', re.I)
# RFC 9449 §8.1: a nonce is 1*NQCHAR (printable ASCII but the double quote and backslash).
_NONCE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,1024}")


def generate_key(algorithm: str = DEFAULT_ALGORITHM) -> str:
    """A new proof key for `algorithm`, as a PKCS #8 PEM private key (for the keyring)."""
    from joserfc.jwk import ECKey, OKPKey, RSAKey

    key: Any
    if algorithm == "ES256":
        key = ECKey.generate_key("P-256")
    elif algorithm in ("PS256", "RS256"):
        key = RSAKey.generate_key(2048)
    elif algorithm == "EdDSA":
        key = OKPKey.generate_key("Ed25519")
    else:
        raise SigningError(f"Unknown DPoP algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}.")
    return str(key.as_pem(private=True).decode())


class DpopKey:
    """One proof key and its algorithm; signs proofs."""

    def __init__(self, pem: str, algorithm: str = DEFAULT_ALGORITHM) -> None:
        if algorithm not in ALGORITHMS:
            raise SigningError(f"Unknown DPoP algorithm {algorithm!r}: "
                               f"one of {', '.join(ALGORITHMS)}.")
        self.algorithm = algorithm
        self._key = _load(pem, algorithm)
        self.jwk: dict[str, Any] = dict(self._key.as_dict(private=False))
        # RFC 7638 thumbprint (SHA-256, base64url): the `jkt` of a bound token's `cnf`.
        self.thumbprint: str = str(self._key.thumbprint())

    def proof(self, method: str, url: str, *, now: float, access_token: str | None = None,
              nonce: str | None = None) -> str:
        from joserfc import jwt

        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(24),
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(now),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": self.algorithm, "jwk": self.jwk}
        with warnings.catch_warnings():
            # joserfc warns that RFC 9864 deprecates "EdDSA" for "Ed25519"; RFC
            # 9449 providers (oidc-provider's dPoPSigningAlgValues) know EdDSA.
            warnings.filterwarnings("ignore", message="EdDSA is deprecated")
            return str(jwt.encode(header, claims, self._key, algorithms=[self.algorithm]))


class DpopProver:
    """Proofs for one key across servers, with each server's latest nonce.

    Thread-safe: requests in flight at once share the nonces.
    """

    needs_body = False

    def __init__(self, key: DpopKey, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self._clock = clock
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    def nonce(self, url: str) -> str | None:
        with self._lock:
            return self._nonces.get(_origin(url))

    def headers(self, request: Request, access_token: str | None = None) -> HeaderUpdate:
        """The request's DPoP header; with `access_token`, for an API request
        (RFC 9449 §7.1), its `Authorization: DPoP …` as well."""
        proof = self.key.proof(request.method, request.url, now=self._clock(),
                               access_token=access_token, nonce=self.nonce(request.url))
        update: HeaderUpdate = {"DPoP": proof}
        if access_token is not None:
            update["Authorization"] = f"DPoP {access_token}"
        return update

    def observe(self, request: Request, response: Response) -> str | None:
        """Keep the nonce `response` gives (RFC 9449 §8.2: on any answer); returns it."""
        nonce = response.header("DPoP-Nonce")
        if nonce is None or not _NONCE.fullmatch(nonce.strip()):
            return None
        with self._lock:
            self._nonces[_origin(request.url)] = nonce.strip()
        return nonce.strip()

    def challenge(self, request: Request, response: Response,
                  access_token: str | None = None) -> HeaderUpdate | None:
        """Fresh headers to retry `request` with, when `response` asks for a
        nonce (and gives one); None when it refused for another reason."""
        nonce = self.observe(request, response)
        if nonce is None or not wants_nonce(response):
            return None
        return self.headers(request, access_token)

    def for_token(self, access_token: str) -> BoundSigner:
        """A `Signer` for API requests that carry `access_token`."""
        return BoundSigner(self, access_token)


class BoundSigner:
    """The `Signer` for API requests with one DPoP-bound access token."""

    needs_body = False

    def __init__(self, prover: DpopProver, access_token: str) -> None:
        self._prover = prover
        self._token = access_token

    def sign(self, request: Request) -> HeaderUpdate:
        return self._prover.headers(request, self._token)

    def challenge(self, request: Request, response: Response) -> HeaderUpdate | None:
        return self._prover.challenge(request, response, self._token)


def wants_nonce(response: Response) -> bool:
    """Whether `response` refuses a proof for want of a (new) nonce: a token
    endpoint's `use_dpop_nonce` error (RFC 9449 §8) or an API's DPoP challenge
    with that error (§9)."""
    if response.status == 401:
        for value in response.all("WWW-Authenticate"):
            if not re.match(r"\s*dpop\b", value, re.I) and not re.search(r",\s*dpop\s", value,
                                                                          re.I):
                continue
            for match in _ERROR_PARAM.finditer(value):
                if (match.group(1) or match.group(2) or "") == NONCE_ERROR:
                    return True
        return False
    if response.status == 400:
        try:
            body = json.loads(response.body[:65536])
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(body, dict) and body.get("error") == NONCE_ERROR
    return False


def htu(url: str) -> str:
    """The `htu` claim: the request's URL without query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def access_token_hash(access_token: str) -> str:
    """The `ath` claim: base64url of the token's SHA-256 (RFC 9449 §4.2)."""
    if not access_token.isascii():
        raise SigningError("The access token is not ASCII (RFC 6750 b64token); it cannot be "
                           "bound to a DPoP proof.")
    return _b64(hashlib.sha256(access_token.encode("ascii")).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _load(pem: str, algorithm: str) -> Any:
    """The joserfc private key for `algorithm`, or `InvalidKey` in our own words."""
    import warnings

    from joserfc.jwk import ECKey, OKPKey, RSAKey

    if "PRIVATE KEY-----" not in pem:
        raise InvalidKey("A DPoP key must be a PEM private key (-----BEGIN PRIVATE KEY-----).")
    key: Any
    try:
        if algorithm == "ES256":
            key = ECKey.import_key(pem)
            ok = key.curve_name == "P-256"
        elif algorithm == "EdDSA":
            key = OKPKey.import_key(pem)
            ok = key.curve_name == "Ed25519"
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # joserfc's own about a short key: said below
                key = RSAKey.import_key(pem)
            ok = key.raw_value.key_size >= 2048
    except Exception:  # noqa: BLE001 - any parse failure is the key's
        raise InvalidKey(f"The DPoP key is not a readable PEM private key for "
                         f"{algorithm}.") from None
    if not ok or not key.is_private:
        wanted = {"ES256": "a P-256 EC key", "EdDSA": "an Ed25519 key"}.get(
            algorithm, "an RSA key of at least 2048 bits")
        raise InvalidKey(f"{algorithm} needs {wanted} (private); this is another key.")
    return key
