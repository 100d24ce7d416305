"""Finding a configured target by name, with "did you mean" when there is none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.core.errors import ConfigError, UsageError
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    from astra_auth.deps import Deps
    from astra_auth.storage.config import Config, Target


def lookup(config: Config, name: str, deps: Deps, *, offer_create: bool = True) -> Target:
    """The named target, or a configuration error that suggests the closest
    known name ("did you mean"), and how to create it where that is the fix."""
    from astra_auth.core import validate
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


def load_target(deps: Deps, name: str) -> Target:
    """Read the config file and return the named target."""
    return lookup(deps.config.load(), name, deps)
