"""HTTP Message Signatures (RFC 9421): a key ID, algorithm and covered
components from the config, the signing key (a PEM private key, or the
hmac-sha256 secret) from the variables or the keyring; every request is
signed anew by `astra_auth.signing.http_signature`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.static import StaticSource, failed, invalid_secret
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps

TOKEN_TYPE = "HTTP Message Signature"


def open(target: Target, deps: Deps, settings: SourceSettings) -> StaticSource:  # noqa: A001
    assert target.http_signature is not None
    hs = target.http_signature

    def build(key: str) -> Credential:
        from astra_auth.signing.http_signature import HttpSignatureSigner, SignatureSettings
        from astra_auth.signing.message import SigningError

        try:
            signer = HttpSignatureSigner(
                SignatureSettings(hs.key_id, hs.algorithm, tuple(hs.components), hs.label,
                                  hs.lifetime), key, clock=deps.clock)
        except SigningError as exc:
            raise failed(target, deps, settings, invalid_secret(target, "signing_key",
                                                          str(exc))) from None
        return Credential.signed(signer, TOKEN_TYPE)

    return StaticSource(target, deps, settings, "signing_key", "signing key", build)
