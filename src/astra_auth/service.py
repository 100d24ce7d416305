"""What several commands and the Python API share: finding a configured target."""

from __future__ import annotations

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


def load_target(deps: Deps, name: str) -> Target:
    """Read the config file and return the named target."""
    return lookup(deps.config.load(), name, deps)
