"""The auth types `configure` knows, by the config's `auth_type` (in the order
the walk-through lists them).  A new type: its module, and one entry here."""

from __future__ import annotations

from astra_auth.commands.configure import (
    api_key,
    aws_sigv4,
    basic,
    bearer,
    digest,
    http_signature,
    jwt,
    oauth2,
)
from astra_auth.commands.configure.answers import AuthType

AUTH_TYPES: dict[str, AuthType] = {
    t.key: t for t in (oauth2.TYPE, basic.TYPE, bearer.TYPE, api_key.TYPE, jwt.TYPE,
                       aws_sigv4.TYPE, http_signature.TYPE, digest.TYPE)
}
