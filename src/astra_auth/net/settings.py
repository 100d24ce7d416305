"""The timeout and CA bundle of a network exchange: the command's flags, else
the target's own settings, else the defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from astra_auth.core.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from astra_auth.storage.config import Target

DEFAULT_TIMEOUT = 10.0


def network(target: Target, timeout: float | None, ca_bundle: Path | None
            ) -> tuple[float, Path | None]:
    """The timeout and extra CA bundle for `target`: the command's `--timeout` /
    `--ca-bundle` when given, else the target's `timeout` / `ca_bundle`, else
    10 seconds and none.  A CA bundle that another user can change is refused."""
    if timeout is None:
        timeout = target.timeout if target.timeout is not None else DEFAULT_TIMEOUT
    if ca_bundle is None and target.ca_bundle:
        ca_bundle = Path(target.ca_bundle).expanduser()
    if ca_bundle is not None:
        check_ca_bundle(ca_bundle)
    return timeout, ca_bundle


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
        check_ca_bundle(ca_bundle)


def check_ca_bundle(ca_bundle: Path) -> None:
    """A CA bundle that another user can change is refused (exit 3), as a
    config file is: whoever can add a CA to it can read the token requests."""
    from astra_auth.storage.config.store import ownership_problems
    from astra_auth.text.shellcmd import quote

    problems = ownership_problems(ca_bundle, sticky_folder_ok=True)
    if problems:
        raise ConfigError(
            f"{ca_bundle}: refusing to use it as a CA bundle: {'; '.join(problems)}",
            hints=["Anyone who can change a CA bundle can add a CA of their own and read the "
                   "token requests. Fix the permissions (chmod go-w "
                   f"{quote(str(ca_bundle))}, and the same on its folder) and own it "
                   "yourself, or give another bundle with --ca-bundle."])
