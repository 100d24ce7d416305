"""AWS Signature Version 4 (API Gateway IAM auth, any SigV4 service): an access
key ID from the config, its secret access key (and a session token, for
temporary credentials) from the variables or the keyring; every request is
signed anew by `astra_auth.signing.sigv4`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.secrets import read_optional_secret
from astra_auth.credentials.static import StaticSource, failed, invalid_secret
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps

TOKEN_TYPE = "AWS4-HMAC-SHA256"


def open(target: Target, deps: Deps, settings: SourceSettings) -> StaticSource:  # noqa: A001
    assert target.aws_sigv4 is not None
    aws = target.aws_sigv4

    def build(secret: str) -> Credential:
        from astra_auth.signing.message import SigningError
        from astra_auth.signing.sigv4 import AwsCredentials, SigV4Signer

        token = read_optional_secret(target, deps, "session_token")
        try:
            signer = SigV4Signer(AwsCredentials(aws.access_key_id, secret, token), aws.region,
                                 aws.service, clock=deps.clock)
        except SigningError as exc:
            kind = "session_token" if "session token" in str(exc) else "secret_access_key"
            raise failed(target, deps, settings, invalid_secret(target, kind, str(exc))) from None
        return Credential.signed(signer, TOKEN_TYPE)

    return StaticSource(target, deps, settings, "secret_access_key", "secret access key", build)
