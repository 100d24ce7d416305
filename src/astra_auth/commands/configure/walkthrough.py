"""The interactive walk-through: a sequence of steps filling one `Answers`.

The target comes first (the rest depends on it), then the steps every type
shares, then the chosen type's own steps (`AuthType.steps`).  Nothing is
stored here: Ctrl-C or Ctrl-D at any prompt leaves everything as it was.
"""

from __future__ import annotations

from astra_auth import validate
from astra_auth.commands.configure.answers import (
    Answers,
    Session,
    Step,
    refuse_foreign_flags,
    start,
)
from astra_auth.commands.configure.ask import ask_valid
from astra_auth.commands.configure.auth_types import AUTH_TYPES
from astra_auth.commands.configure.options import ConfigureOptions, Given
from astra_auth.config import Target
from astra_auth.deps import Deps
from astra_auth.prompter import Choice


def walkthrough(
    opts: ConfigureOptions, targets: dict[str, Target], deps: Deps, given: Given
) -> Answers:
    s = start(opts, deps, given, ask_target(opts, targets, deps), targets)
    for step in COMMON_STEPS:
        step(s)
    auth_type = AUTH_TYPES[s.answers.auth_type]
    refuse_foreign_flags(s, auth_type)
    for step in auth_type.steps:
        step(s)
    return s.answers


def ask_target(opts: ConfigureOptions, targets: dict[str, Target], deps: Deps) -> str:
    """Step 1: an existing target from the list, or a new name."""
    name = opts.name
    if name is None and targets:
        names = sorted(targets)
        labels = [Choice(n, targets[n].url or "") for n in names]
        index = deps.prompter.select("Target", labels + [Choice("Create a new target")],
                                     default=0)
        name = names[index] if index < len(names) else None
    if name is None:
        name = ask_valid(deps, "Target name (e.g. payments-api)", None, validate.target_name)
    return name


def ask_api_url(s: Session) -> None:
    """The API under test, for a new target that `--url` did not name."""
    if s.answers.existing is None and s.opts.url is None:
        s.answers.url = ask_valid(
            s.deps, "API URL (the API under test; Enter to skip)", None, validate.api_url,
            optional=True,
        )


def ask_auth_type(s: Session) -> None:
    if s.opts.auth_type is not None:
        return
    keys = list(AUTH_TYPES)
    index = s.deps.prompter.select(
        "Authentication type", [t.choice for t in AUTH_TYPES.values()],
        default=keys.index(s.answers.auth_type),
    )
    s.answers.auth_type = keys[index]
    existing = s.answers.existing
    if s.opts.secrets is None and existing is not None and existing.auth_type != keys[index]:
        s.answers.secrets_mode = "keyring"  # the old type's choice does not carry over


COMMON_STEPS: tuple[Step, ...] = (ask_api_url, ask_auth_type)
