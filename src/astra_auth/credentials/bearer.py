"""A long-lived bearer token issued elsewhere (RFC 6750), kept in the keyring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.static import StaticSource
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def open(target: Target, deps: Deps, settings: SourceSettings) -> StaticSource:  # noqa: A001
    return StaticSource(
        target, deps, settings, "bearer_token", "bearer token",
        lambda token: Credential("header", "Authorization", f"Bearer {token}", token=token,
                                 token_type="Bearer"),
    )
