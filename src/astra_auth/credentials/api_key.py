"""An API key in a header, a query parameter or a cookie."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.static import StaticSource
from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def open(target: Target, deps: Deps, settings: SourceSettings) -> StaticSource:  # noqa: A001
    assert target.api_key is not None
    key = target.api_key
    return StaticSource(
        target, deps, settings, "api_key", "API key",
        lambda value: Credential(key.location, key.name, value, token=value),  # type: ignore[arg-type]
    )
