"""Client authentication with a key instead of a secret (docs/auth/enterprise.md).

- `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): a short-lived JWT
  signed with the client's private key, sent as `client_assertion`.
- `tls_client_auth` (RFC 8705 §2): the client certificate presented in the TLS
  handshake; the key never leaves this process (`load_identity`).

The private key is PEM text from the keyring or the environment; it is never
written to a file (the TLS library reads it from an anonymous in-memory file)
and never appears in a message: every error here is in our own words.

joserfc and cryptography are imported only on these paths.
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from astra_auth.core.failure import Category, Failure

# An assertion is used once (its jti) and lives this long: short, so that a
# copy is worthless soon (Entra and Okta allow up to an hour; 60 s is common).
ASSERTION_LIFETIME = 60


class KeyProblem(Exception):
    """A private key or certificate that cannot be used: `invalid_key`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.failure = Failure(Category.INVALID_KEY, message)


@dataclass(frozen=True)
class ProviderDefaults:
    """Where providers differ about private_key_jwt."""

    name: str | None = None
    alg: str = "RS256"
    # The audience: None is the token URL (RFC 7523 §3 point 3).
    audience: str | None = None
    # Entra wants the certificate's thumbprint (x5t#S256) in the header.
    wants_certificate: bool = False


def provider_defaults(token_url: str) -> ProviderDefaults:
    """Per-provider defaults, learnt from the token URL's host."""
    parts = urlsplit(token_url)
    host = (parts.hostname or "").lower()
    if host.startswith("login.microsoftonline.") or host in (
            "login.chinacloudapi.cn", "login.partner.microsoftonline.cn"):
        # Entra ID certificate credentials: PS256 with x5t#S256 (RS256 with x5t
        # is the legacy form); aud is the token endpoint.
        return ProviderDefaults("Entra ID", "PS256", None, wants_certificate=True)
    if host.endswith((".okta.com", ".oktapreview.com", ".okta-emea.com", ".okta-gov.com")):
        # Okta: aud is exactly the token endpoint (the default), RS256.
        return ProviderDefaults("Okta")
    if host.endswith(".auth0.com"):
        # Auth0: aud is the tenant URL, with its trailing slash.
        return ProviderDefaults("Auth0", "RS256", f"https://{parts.netloc}/")
    return ProviderDefaults()


@dataclass
class ClientKey:
    """The client's private key and, optionally, its certificate."""

    pem: str = field(repr=False)
    certificate: Path | None = None

    def __post_init__(self) -> None:
        self._private: Any = None
        self._cert_der: bytes | None = None

    # -- reading and checking ----------------------------------------------

    def private_key(self) -> Any:
        """The cryptography private key (KeyProblem when it is not one)."""
        if self._private is None:
            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            if "PRIVATE KEY-----" not in self.pem:
                raise KeyProblem("the private key is not a PEM private key "
                                "(-----BEGIN PRIVATE KEY-----)")
            try:
                self._private = load_pem_private_key(self.pem.encode(), password=None)
            except TypeError:
                raise KeyProblem("the private key is encrypted; store it without a passphrase "
                                "(openssl pkey -in KEY -out key.pem)") from None
            except Exception:  # noqa: BLE001 - never the key's text in a message
                raise KeyProblem("the private key is not a readable PEM private key") from None
        return self._private

    def certificate_der(self) -> bytes | None:
        """The certificate (DER), checked to be the public half of the key."""
        if self.certificate is None:
            return None
        if self._cert_der is None:
            from cryptography import x509
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            try:
                data = self.certificate.read_bytes()
            except OSError as exc:
                raise KeyProblem(f"the certificate {self.certificate} cannot be read: "
                                f"{exc.strerror}") from None
            try:
                cert = x509.load_pem_x509_certificate(data)
            except ValueError:
                raise KeyProblem(f"the certificate {self.certificate} is not a PEM "
                                "certificate (-----BEGIN CERTIFICATE-----)") from None
            fmt = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            if cert.public_key().public_bytes(*fmt) != \
                    self.private_key().public_key().public_bytes(*fmt):
                raise KeyProblem(f"the private key does not match the certificate "
                                f"{self.certificate}: they are not two halves of one key pair")
            self._cert_der = cert.public_bytes(Encoding.DER)
        return self._cert_der

    def check_alg(self, alg: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        key = self.private_key()
        if alg == "ES256":
            if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
                raise KeyProblem("ES256 needs an EC P-256 private key")
        elif not isinstance(key, rsa.RSAPrivateKey):
            raise KeyProblem(f"{alg} needs an RSA private key")
        elif key.key_size < 2048:
            raise KeyProblem(f"{alg} needs an RSA key of at least 2048 bits "
                            f"(this one has {key.key_size})")

    def jwk(self) -> Any:
        """The key as a joserfc key (RSA or EC)."""
        from cryptography.hazmat.primitives.asymmetric import ec
        from joserfc.jwk import ECKey, RSAKey

        key = self.private_key()
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return ECKey.import_key(key)
        return RSAKey.import_key(key)

    def kid(self) -> str:
        """The key's RFC 7638 thumbprint: the `kid` to register with the provider."""
        return str(self.jwk().thumbprint())

    # -- private_key_jwt ---------------------------------------------------

    def assertion(self, *, client_id: str, audience: str, alg: str, now: float,
                  kid: str | None = None) -> str:
        """A fresh client assertion (RFC 7523 §3): iss = sub = client ID, aud, a
        unique jti, iat, nbf and a short exp.  The header names the key by
        `kid` where one is given (the provider's own name for the key), by
        `x5t#S256` with a certificate, else by its RFC 7638 thumbprint."""
        from joserfc import jwt

        self.check_alg(alg)
        cert = self.certificate_der()
        header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
        if cert is not None:
            header["x5t#S256"] = b64url(hashlib.sha256(cert).digest())
        if kid is not None:
            header["kid"] = kid
        elif cert is None:
            header["kid"] = self.kid()
        issued = int(now)
        claims = {"iss": client_id, "sub": client_id, "aud": audience,
                  "jti": uuid.uuid4().hex, "iat": issued, "nbf": issued,
                  "exp": issued + ASSERTION_LIFETIME}
        return str(jwt.encode(header, claims, self.jwk(), algorithms=[alg]))

    # -- tls_client_auth ---------------------------------------------------

    def load_identity(self, ctx: ssl.SSLContext) -> None:
        """Make `ctx` present the certificate with this key, the key kept in memory."""
        if self.certificate is None:
            raise KeyProblem("tls_client_auth needs a certificate (--certificate PATH)")
        self.certificate_der()  # a clear invalid_key before OpenSSL's own words
        data = self.pem.encode()
        try:
            with _memory_file(data) as path:
                ctx.load_cert_chain(str(self.certificate), path)
        except ssl.SSLError:
            raise KeyProblem(f"the private key and the certificate {self.certificate} cannot "
                            "be used together for TLS") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class _memory_file:  # noqa: N801 - used as a context manager
    """A path that reads `data` without it ever being on disk: an anonymous
    memfd on Linux, else a pipe already holding the data (PEM keys are far
    smaller than a pipe's buffer)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._fds: list[int] = []

    def __enter__(self) -> str:
        memfd = getattr(os, "memfd_create", None)
        if memfd is not None:
            fd = memfd("astra-auth-key", getattr(os, "MFD_CLOEXEC", 0))
            self._fds.append(fd)
            os.write(fd, self._data)
            return f"/proc/self/fd/{fd}"
        if not hasattr(os, "pipe") or not Path("/dev/fd").is_dir():  # pragma: no cover
            raise KeyProblem("tls_client_auth is not supported on this platform yet")
        read, write = os.pipe()  # pragma: no cover - macOS and BSD
        self._fds.append(read)  # pragma: no cover
        try:  # pragma: no cover
            os.write(write, self._data)
        finally:  # pragma: no cover
            os.close(write)
        return f"/dev/fd/{read}"  # pragma: no cover

    def __exit__(self, *exc: object) -> None:
        for fd in self._fds:
            os.close(fd)
