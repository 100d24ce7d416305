"""HTTP Digest (RFC 7616): a username from the config, the password from the
variables or the keyring; the API's challenge is answered by
`astra_auth.signing.digest` (the first request of a scan goes without, gets
the 401 challenge, and is sent again with the answer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.static import StaticSource, failed, invalid_secret
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps

TOKEN_TYPE = "Digest"


def open(target: Target, deps: Deps, settings: SourceSettings) -> StaticSource:  # noqa: A001
    assert target.digest is not None
    username = target.digest.username

    def build(password: str) -> Credential:
        from astra_auth.signing.digest import DigestSigner
        from astra_auth.signing.message import SigningError

        try:
            signer = DigestSigner(username, password)
        except SigningError as exc:
            raise failed(target, deps, settings, invalid_secret(target, "password",
                                                          str(exc))) from None
        return Credential.signed(signer, TOKEN_TYPE)

    return StaticSource(target, deps, settings, "password", "password", build)
