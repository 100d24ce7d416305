"""HTTP Message Signatures (RFC 9421) for every request, with Content-Digest (RFC 9530).

The signature base, the Structured Field serialisation of `Signature-Input`
and `Signature`, the Content-Digest and the cryptography are the
`http-message-signatures` package's (`HTTPMessageSigner`), imported only here;
keys are read and made with `cryptography`.  This module decides what is covered:

- The configured components, in their order (by default `@method`,
  `@target-uri`, `content-digest`, `content-type`).  A header field the request
  does not have (content-type on a GET) is left out of that request's list
  rather than failing it: RFC 9421 §2.5 makes a signer fail on a component it
  cannot resolve, and §1.4 leaves the choice of components to the signer, so
  each signature covers the configured fields the request has; its
  `Signature-Input` says exactly which.  Derived components (`@method`, …)
  always resolve.
- `content-digest` is the body's SHA-256 (RFC 9530 §2) computed here, replacing
  any the client sent.  A request without content has none and leaves it out;
  a body that streams (`Request.body` is None) cannot be digested:
  `BodyRequired`.
- `created` is now; `expires` is now + lifetime (none when lifetime is None);
  `keyid` and `alg` (RFC 9421 §2.3) name the key and its algorithm.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from astra_auth.signing.message import (
    BodyRequired,
    HeaderUpdate,
    InvalidKey,
    Request,
    Response,
    SigningError,
)

ALGORITHMS = ("ed25519", "ecdsa-p256-sha256", "rsa-pss-sha512", "rsa-v1_5-sha256", "hmac-sha256")
DEFAULT_COMPONENTS = ("@method", "@target-uri", "content-digest", "content-type")
# The headers this module writes; any the client sent are replaced.
_OWN = ("Signature-Input", "Signature", "Content-Digest")


@dataclass(frozen=True)
class SignatureSettings:
    key_id: str
    algorithm: str
    components: tuple[str, ...] = DEFAULT_COMPONENTS
    label: str = "sig1"
    # Seconds until `expires`; None: no `expires` parameter.
    lifetime: int | None = 300
    # The `alg` parameter (RFC 9421 §2.3): optional there, sent by default
    # since it tells a verifier with several keys which algorithm to expect.
    include_alg: bool = True


class HttpSignatureSigner:
    """Signs each request with one key, as `settings` say."""

    def __init__(self, settings: SignatureSettings, key: str | bytes,
                 clock: Callable[[], float] = time.time) -> None:
        from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

        if settings.algorithm not in ALGORITHMS:
            raise SigningError(f"Unknown HTTP signature algorithm {settings.algorithm!r}: "
                               f"one of {', '.join(ALGORITHMS)}.")
        if not settings.key_id or not settings.key_id.isascii() or not settings.key_id.isprintable():
            raise SigningError("The key ID must be printable ASCII.")
        if not settings.components:
            raise SigningError("An HTTP signature must cover at least one component.")
        for name in settings.components:
            if name != name.lower() or not name or not name.isascii() or '"' in name:
                raise SigningError(f"Component {name!r} is not a lower-case component name "
                                   "(as @method, @target-uri or content-type).")
        self.settings = settings
        self.needs_body = "content-digest" in settings.components
        self._key = load_key(settings.algorithm, key)
        self._clock = clock
        algorithm = {
            "ed25519": algorithms.ED25519,
            "ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256,
            "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
            "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
            "hmac-sha256": algorithms.HMAC_SHA256,
        }[settings.algorithm]
        self._signer = HTTPMessageSigner(
            signature_algorithm=algorithm,
            key_resolver=MappingKeyResolver(public_keys={},
                                            private_keys={settings.key_id: self._key}))

    def sign(self, request: Request) -> HeaderUpdate:
        from http_message_signatures import HTTPMessageSignaturesException

        settings = self.settings
        headers: dict[str, str] = {}
        for name, _ in request.headers:
            if name.lower() not in headers and name.lower() not in ("signature-input",
                                                                     "signature",
                                                                     "content-digest"):
                headers[name.lower()] = request.header(name) or ""
        body: bytes | None = None
        covered: list[str] = []
        for component in settings.components:
            if component == "content-digest":
                if request.body is None:
                    raise BodyRequired("The signature covers content-digest, but the body "
                                       "streams past what can be held to digest it.")
                if request.body:
                    body = request.body
                    covered.append(component)
            elif component.startswith("@") or component in headers:
                covered.append(component)
        now = int(self._clock())
        message = _Message(request.method.upper(), request.url, headers)
        try:
            self._signer.sign(
                message,
                key_id=settings.key_id,
                created=datetime.fromtimestamp(now, UTC),
                expires=(datetime.fromtimestamp(now + settings.lifetime, UTC)
                         if settings.lifetime is not None else None),
                label=settings.label,
                include_alg=settings.include_alg,
                covered_component_ids=covered,
                body=body,
            )
        except HTTPMessageSignaturesException as exc:
            # Its messages name components and parameters, never their values.
            raise SigningError(f"The request cannot be signed (RFC 9421): {exc}") from None
        update: HeaderUpdate = {name: None for name in _OWN}
        for name in _OWN:
            if name.lower() in message.headers:
                update[name] = message.headers[name.lower()]
        return update

    def challenge(self, request: Request, response: Response) -> HeaderUpdate | None:
        # RFC 9421 has no challenge to answer (Accept-Signature, §5.1, asks for
        # a signature ahead of time; a refused one is refused again).
        return None


class _Message:
    """The request as `HTTPMessageSigner` reads and writes it (method, URL,
    headers); header names lower-cased, so that its writes replace."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = _Fields(headers)


class _Fields(dict[str, str]):
    """Headers by lower-cased name: the library writes `Signature-Input`,
    `Signature` and `Content-Digest` in their own case."""

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(name.lower(), value)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


# ---------------------------------------------------------------------------
# Keys: read (from the keyring's text), made (configure --generate-key), shown
# (targets show: the public key to register with the API)


def load_key(algorithm: str, secret: str | bytes) -> Any:
    """The signing key for `algorithm`: a `cryptography` private key, or the
    HMAC secret's bytes (a text secret is its UTF-8).  `InvalidKey` says why
    not, in our own words (never the key's text)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    if algorithm == "hmac-sha256":
        if b"-----BEGIN" in raw:
            raise InvalidKey("hmac-sha256 needs a shared secret, not a PEM key.")
        if len(raw) < 16:
            raise InvalidKey("An hmac-sha256 secret must be at least 16 bytes long.")
        return raw
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if b"PRIVATE KEY-----" not in raw:
        raise InvalidKey(f"{algorithm} needs a PEM private key (-----BEGIN PRIVATE KEY-----).")
    try:
        key = load_pem_private_key(raw, password=None)
    except (ValueError, TypeError):
        raise InvalidKey("The key is not a readable, unencrypted PEM private key.") from None
    except Exception as exc:  # noqa: BLE001 - an unsupported key type
        raise InvalidKey(f"The key cannot be read ({type(exc).__name__}).") from None
    if algorithm == "ed25519":
        ok = isinstance(key, ed25519.Ed25519PrivateKey)
    elif algorithm == "ecdsa-p256-sha256":
        ok = isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    else:
        ok = isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048
    if not ok:
        wanted = {"ed25519": "an Ed25519 key", "ecdsa-p256-sha256": "an EC key on P-256"}.get(
            algorithm, "an RSA key of at least 2048 bits")
        raise InvalidKey(f"{algorithm} needs {wanted}; this is another kind of key.")
    return key


def generate_key(algorithm: str) -> str:
    """A new signing key for `algorithm`: a PKCS #8 PEM private key, or for
    hmac-sha256 a random secret of 32 bytes (base64url text, used as it is)."""
    if algorithm == "hmac-sha256":
        return secrets.token_urlsafe(32)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key: Any
    if algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ecdsa-p256-sha256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif algorithm in ("rsa-pss-sha512", "rsa-v1_5-sha256"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        raise SigningError(f"Unknown HTTP signature algorithm {algorithm!r}.")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_key_pem(algorithm: str, secret: str | bytes) -> str | None:
    """The public key to register with the API (SubjectPublicKeyInfo PEM);
    None for hmac-sha256, whose secret is shared, never shown."""
    if algorithm == "hmac-sha256":
        return None
    from cryptography.hazmat.primitives import serialization

    key = load_key(algorithm, secret)
    return str(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())


def public_jwk(algorithm: str, secret: str | bytes, key_id: str) -> dict[str, Any] | None:
    """The public key as a JWK (RFC 7517) with `kid`; None for hmac-sha256."""
    pem = public_key_pem(algorithm, secret)
    if pem is None:
        return None
    from joserfc.jwk import JWKRegistry

    key_type = {"ed25519": "OKP", "ecdsa-p256-sha256": "EC"}.get(algorithm, "RSA")
    jwk: dict[str, Any] = dict(JWKRegistry.import_key(pem, key_type).as_dict(private=False))
    jwk["kid"] = key_id
    return jwk
