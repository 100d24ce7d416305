"""What the integrations share: a target's API URL and credential source, for a
client of the API inside this process (`auth_for`, the Schemathesis provider)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from astra_auth.core.errors import ConfigError
from astra_auth.deps import Deps
from astra_auth.storage.lookup import load_target
from astra_auth.text.shellcmd import Placeholder, configure

if TYPE_CHECKING:
    from astra_auth.credentials.interface import CredentialSource


def api_source(name: str, *, config: str | Path | None, min_ttl: float | None,
               timeout: float | None, ca_bundle: str | Path | None
               ) -> tuple[str, CredentialSource]:
    """The API's URL and the credential source, for a client of the API inside
    this process (`auth_for`, the Schemathesis provider).  The target must have
    a `url`: its origin is the only one the credential is sent to."""
    from astra_auth.credentials.interface import SourceSettings, open_source

    deps = Deps.system(Path(config) if config is not None else None)
    target = load_target(deps, name)
    if not target.url:
        raise ConfigError(
            f"target {name!r} has no API URL, so astra-auth cannot tell which requests "
            "may carry its credential",
            hints=["Set it with: " + configure(name, "--url",
                                                 Placeholder("https://api.example.com"))],
        )
    settings = SourceSettings(min_ttl=min_ttl, timeout=timeout,
                              ca_bundle=Path(ca_bundle) if ca_bundle is not None else None)
    return target.url, open_source(target, deps, settings)
