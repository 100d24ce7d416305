"""JWTs signed here, one per use (the "JWT Bearer" auth type): HS256/384/512 with
a shared secret, RS256, PS256 and ES256 with a PEM private key.

Signing uses joserfc, imported only here: Authlib's own JOSE library, a strict
implementation of RFC 7515/7518 that the test servers verify with as well.
Each token carries the configured claims plus `iat`, `exp` and a fresh `jti`;
it is used until the renewal point (`astra_auth.credentials.renewal`) and then
signed again.
"""

from __future__ import annotations

import threading
import uuid
import warnings
from typing import TYPE_CHECKING, Any

from astra_auth.core.failure import Category, Failure
from astra_auth.credentials.interface import Credential, RefusalRule, SourceSettings
from astra_auth.credentials.renewal import renew_at
from astra_auth.credentials.secrets import InvalidKey, MissingSecret, read_secret
from astra_auth.credentials.static import failed
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps


class JwtSource:
    def __init__(self, target: Target, deps: Deps, settings: SourceSettings) -> None:
        assert target.jwt is not None
        self.target = target
        self._deps = deps
        self._settings = settings
        self._key: Any = None
        self._current: Credential | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self._refusals = RefusalRule()

    def get(self) -> Credential:
        with self._lock:
            if self._current is None or self._deps.clock() >= self._renew_at:
                self._current = self._sign()
            return self._current

    def peek(self) -> Credential | None:
        current = self._current
        return current if current is not None and self._deps.clock() < self._renew_at else None

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        with self._lock:
            return self._refusals.respond(failed, www_authenticate, self._current,
                                          self._sign_current)

    def _sign_current(self) -> Credential:
        self._current = self._sign()
        return self._current

    def _sign(self) -> Credential:
        settings = self.target.jwt
        assert settings is not None
        from joserfc import jwt

        key = self._signing_key()
        now = int(self._deps.clock())
        expires_at = now + settings.lifetime
        claims = {**settings.claims, "iat": now, "exp": expires_at, "jti": uuid.uuid4().hex}
        header = {"alg": settings.algorithm, "typ": "JWT"}
        with warnings.catch_warnings():
            # joserfc warns about HMAC keys shorter than the hash; the key is the
            # API's to choose, and the scanner must match it.
            warnings.simplefilter("ignore")
            token = jwt.encode(header, claims, key, algorithms=[settings.algorithm])
        self._renew_at = renew_at(now, expires_at, self._settings.min_ttl)
        if self._settings.on_event is not None:
            self._settings.on_event("renewed", f"{self.target.name}: new JWT signed, valid "
                                               f"{settings.lifetime} seconds")
        value = f"{settings.prefix} {token}" if settings.prefix else token
        return Credential("header", settings.header_name, value, token=token,
                          token_type=settings.prefix or None, expires_at=float(expires_at))

    def _signing_key(self) -> Any:
        if self._key is not None:
            return self._key
        settings = self.target.jwt
        assert settings is not None
        try:
            secret = read_secret(self.target, self._deps, "signing_key", "signing key")
            self._key = load_key(settings.algorithm, secret, self.target)
        except (MissingSecret, InvalidKey) as exc:
            raise failed(self.target, self._deps, self._settings, exc.failure) from None
        return self._key


def load_key(algorithm: str, secret: str, target: Target) -> Any:
    """The joserfc key for `algorithm`, or InvalidKey naming why not."""
    from joserfc.jwk import ECKey, OctKey, RSAKey

    try:
        if algorithm.startswith("HS"):
            if "-----BEGIN" in secret:
                raise ValueError(f"{algorithm} needs a shared secret, not a PEM key")
            return OctKey.import_key(secret.encode())
        if "PRIVATE KEY-----" not in secret:
            raise ValueError(f"{algorithm} needs a PEM private key (-----BEGIN PRIVATE KEY-----)")
        key: ECKey | RSAKey
        if algorithm == "ES256":
            key = ECKey.import_key(secret)
            if key.curve_name != "P-256":
                raise ValueError(f"ES256 needs a P-256 key, not {key.curve_name}")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # joserfc's own warning about a short key
                key = RSAKey.import_key(secret)
            bits = key.raw_value.key_size
            if bits < 2048:
                raise ValueError(f"{algorithm} needs an RSA key of at least 2048 bits "
                                 f"(this one has {bits})")
        if not key.is_private:
            raise ValueError("the key is a public key; signing needs the private key")
        return key
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's key
        # Only a reason of our own words: never the key's text.
        reason = _safe_reason(exc)
        raise InvalidKey(Failure(Category.INVALID_KEY, f"The signing key of {target.name} "
                                 f"cannot be used with {algorithm}: {reason}.")) from None


def _safe_reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, ValueError) and text.startswith(("HS", "RS", "PS", "ES", "the key")):
        return text
    if "PEM" in text or "load" in text.lower():
        return "it is not a readable PEM private key"
    return f"it was refused ({type(exc).__name__})"


def open(target: Target, deps: Deps, settings: SourceSettings) -> JwtSource:  # noqa: A001
    return JwtSource(target, deps, settings)
