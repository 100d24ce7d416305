"""What several commands and the Python API share: finding a configured target."""

from __future__ import annotations

import os
from pathlib import Path

from astra_auth.config import Config, Target
from astra_auth.deps import Deps
from astra_auth.errors import ConfigError, UsageError
from astra_auth.shellcmd import command


def lookup(config: Config, name: str, deps: Deps) -> Target:
    """The named target, or a configuration error that lists the known ones."""
    from astra_auth import validate

    try:
        validate.target_name(name)
    except ValueError as exc:
        raise UsageError(f"NAME: {exc}") from None
    if name in config.targets:
        return config.targets[name]
    known = ", ".join(sorted(config.targets)) or "none yet"
    raise ConfigError(
        f"no target named {name!r} in {deps.config_path} (known targets: {known})",
        hints=["Create it with: " + command("configure", name)],
    )


def check_network_options(timeout: float, ca_bundle: Path | None) -> None:
    """`--timeout` and `--ca-bundle`, as every command that talks to the network takes them."""
    if not (0 < timeout <= 600):
        raise UsageError("--timeout: give a number of seconds between 0 and 600")
    if ca_bundle is not None:
        if not ca_bundle.is_file():
            raise UsageError(f"--ca-bundle: {ca_bundle} is not a file")
        if not os.access(ca_bundle, os.R_OK):
            raise UsageError(f"--ca-bundle: {ca_bundle} cannot be read")


def load_target(deps: Deps, name: str) -> Target:
    """Read the config file and return the named target."""
    return lookup(deps.config.load(), name, deps)
