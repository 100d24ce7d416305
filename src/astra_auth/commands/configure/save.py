"""The save transaction: keyring first, then the config file; all or nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from astra_auth.commands.configure.plan import Plan
from astra_auth.core.errors import AstraError
from astra_auth.storage.secretstore import name_clash, remove_entries
from astra_auth.storage.token_state import write_state

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def save(plan: Plan, deps: Deps) -> None:
    """Apply the plan: secrets first, then the config file under its lock,
    undoing the secrets if the file cannot be written."""
    undo: list[tuple[str, str | None]] = []
    try:
        for key, value in plan.secret_changes.items():
            previous = deps.secrets.get(key)
            if value is None:
                if previous is None:
                    continue
                deps.secrets.delete(key)
            else:
                deps.secrets.set(key, value)
            undo.append((key, previous))
        with deps.config.edit() as config:
            # Checked again under the file's lock: another run may have added it.
            clash = name_clash(plan.target.name, config.targets)
            if clash is not None:
                raise clash
            config.targets[plan.target.name] = replace(plan.target)
    except BaseException:
        _undo(undo, deps)
        raise
    remove_entries(deps.secrets, plan.cleanup, strict=False)
    write_state(deps.config_path, plan.target.name, None)


def _undo(undo: list[tuple[str, str | None]], deps: Deps) -> None:
    for key, previous in reversed(undo):
        try:
            if previous is None:
                deps.secrets.delete(key)
            else:
                deps.secrets.set(key, previous)
        except AstraError:
            deps.io.warn(f"could not restore keyring entry {key!r}; check it by hand")
