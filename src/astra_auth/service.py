"""What several commands and the Python API share: finding a configured target."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from astra_auth.config import Config, Target
from astra_auth.deps import Deps
from astra_auth.errors import ConfigError, UsageError
from astra_auth.shellcmd import Placeholder, command, configure

if TYPE_CHECKING:
    from astra_auth.credential import CredentialSource


def lookup(config: Config, name: str, deps: Deps, *, offer_create: bool = True) -> Target:
    """The named target, or a configuration error that suggests the closest
    known name ("did you mean"), and how to create it where that is the fix."""
    from astra_auth import validate

    try:
        validate.target_name(name)
    except ValueError as exc:
        raise UsageError(f"NAME: {exc}") from None
    if name in config.targets:
        return config.targets[name]
    import difflib

    close = difflib.get_close_matches(name, sorted(config.targets), n=1, cutoff=0.6)
    if not close:  # a prefix or a different case is a likely slip too
        close = [n for n in sorted(config.targets)
                 if n.lower().startswith(name.lower()) or name.lower() == n.lower()][:1]
    hints = []
    if close:
        hints.append(f"Did you mean {close[0]!r}?")
    elif config.targets:
        hints.append("See them all with: " + command("targets", "list"))
    if offer_create:
        hints.append("Create it with: " + command("configure", name))
    where = "" if config.targets else " (there are no targets yet)"
    raise ConfigError(f"no target named {name!r} in {deps.config_path}{where}", hints=hints)


def check_network_options(timeout: float | None, ca_bundle: Path | None) -> None:
    """`--timeout` and `--ca-bundle`, as every command that talks to the network takes them
    (None: not given, the target's own apply)."""
    if timeout is not None and not (0 < timeout <= 600):
        raise UsageError("--timeout: give a number of seconds between 0 and 600")
    if ca_bundle is not None:
        if not ca_bundle.is_file():
            raise UsageError(f"--ca-bundle: {ca_bundle} is not a file")
        if not os.access(ca_bundle, os.R_OK):
            raise UsageError(f"--ca-bundle: {ca_bundle} cannot be read")


def api_source(name: str, *, config: str | Path | None, min_ttl: float,
               timeout: float | None, ca_bundle: str | Path | None
               ) -> tuple[str, CredentialSource]:
    """The API's URL and the credential source, for a client of the API inside
    this process (`auth_for`, the Schemathesis provider).  The target must have
    a `url`: its origin is the only one the credential is sent to."""
    from astra_auth.credential import RENEW_AT_SHARE, SourceSettings, open_source

    deps = Deps.system(Path(config) if config is not None else None)
    target = load_target(deps, name)
    if not target.url:
        raise ConfigError(
            f"target {name!r} has no API URL, so astra-auth cannot tell which requests "
            "may carry its credential",
            hints=["Set it with: " + configure(name, "--url",
                                                 Placeholder("https://api.example.com"))],
        )
    settings = SourceSettings(min_ttl=min_ttl, timeout=timeout, renew_share=RENEW_AT_SHARE,
                              ca_bundle=Path(ca_bundle) if ca_bundle is not None else None)
    return target.url, open_source(target, deps, settings)


def load_target(deps: Deps, name: str) -> Target:
    """Read the config file and return the named target."""
    return lookup(deps.config.load(), name, deps)
