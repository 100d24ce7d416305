"""The interactive walk-through: a sequence of steps filling one `Answers`.

The target comes first (the rest depends on it), then the steps every type
shares, then the chosen type's own steps (`AuthType.steps`).  Nothing is
stored here: Ctrl-C or Ctrl-D at any prompt leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from astra_auth.commands.configure.answers import (
    Session,
    Step,
    refuse_foreign_flags,
    start,
)
from astra_auth.commands.configure.ask import ask_optional, ask_valid
from astra_auth.commands.configure.auth_types import AUTH_TYPES
from astra_auth.commands.configure.from_document import at_terminal
from astra_auth.commands.configure.options import ConfigureOptions, Given
from astra_auth.core import validate
from astra_auth.storage.config import Target
from astra_auth.ui.prompter import Choice

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def walkthrough(
    opts: ConfigureOptions, targets: dict[str, Target], deps: Deps, given: Given
) -> Session:
    """Every question for one target; the session holds the answers (and
    what was learnt on the way, for the "Which setting?" menu afterwards)."""
    name = ask_target(opts, targets, deps)
    # An OpenAPI document or a Postman collection answers what it can.
    opts, given = at_terminal(opts, name, targets, deps, given)
    s = start(opts, deps, given, name, targets)
    existing = s.answers.existing
    if existing is not None and existing.auth_type is not None and (
            opts.auth_type in (None, existing.auth_type)):
        edit_menu(s)
        return s
    for step in COMMON_STEPS:
        step(s)
    auth_type = AUTH_TYPES[s.answers.auth_type]
    refuse_foreign_flags(s, auth_type)
    for step in auth_type.steps:
        step(s)
    return s


def ask_target(opts: ConfigureOptions, targets: dict[str, Target], deps: Deps) -> str:
    """Step 1: an existing target by number or name, or a new name; no default,
    so Enter edits nothing.  Says which it is."""
    from astra_auth.storage.secretstore import name_clash
    from astra_auth.ui.picker import pick_target

    def new_name(value: str) -> str:
        """A valid name that reads no other target's variables (asked again if not)."""
        name = validate.target_name(value)
        clash = name_clash(name, targets)
        if clash is not None:
            raise ValueError(clash.message)
        return name

    name = opts.name
    if name is None and targets:
        name = pick_target(deps, targets, "Existing targets", new_name=new_name)
    if name is None:
        name = ask_valid(deps, "Target name (e.g. payments-api)", None, new_name)
    if name in targets:
        deps.io.info(f"Editing existing target {name}.")
    elif targets:
        deps.io.info(f"Creating a new target {name}.")
    return name


def ask_api_url(s: Session) -> None:
    """The API under test, unless `--url` named it; offered again when editing."""
    if s.opts.url is not None:
        return
    if s.answers.existing is None and s.current is None:
        s.answers.url = ask_valid(
            s.deps, "API URL (the API under test, e.g. https://api.example.com; Enter to skip)",
            None, validate.api_url, optional=True,
        )
        return
    current = s.current or s.answers.existing
    assert current is not None
    s.answers.url = ask_optional(
        s.deps, "API URL (the API under test, e.g. https://api.example.com)",
        current.url, validate.api_url) or None


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


# ---------------------------------------------------------------------------
# Editing: "Which setting?" first for a configured target, and for any target
# whose summary was not saved


def edit_menu(s: Session) -> None:
    """A configured target: its current values (and any flag given with them),
    then the menu."""
    auth_type = AUTH_TYPES[s.answers.auth_type]
    refuse_foreign_flags(s, auth_type)
    auth_type.from_flags(s)  # the current values, and any flag given with them
    s.missing.clear()
    _settle_secrets(s)
    which_setting(s)


def which_setting(s: Session) -> None:
    """A menu of the current values; each choice asks that one setting again
    (its prompt offering the value as it stands), and "Done" (the default, so
    Enter) keeps every other as it is."""
    from astra_auth.commands.configure.ask import ask_secret

    while True:
        current, entries = _entries(s)
        done = len(entries)
        index = s.deps.prompter.select(
            "Which setting?",
            [Choice(label, value) for label, value, _ in entries]
            + [Choice("Done", "keep the others as they are; show the summary")],
            default=done,
        )
        if index == done:
            break
        s.current = current
        try:
            entries[index][2](s)
        finally:
            s.current = None
    # What a change made necessary: a secret the new settings need (the
    # password of a grant that became the password grant, say).
    for kind in AUTH_TYPES[s.answers.auth_type].secret_kinds(s.answers):
        if kind not in s.answers.secrets:
            ask_secret(s, kind)


def _settle_secrets(s: Session) -> None:
    """Each secret as it stands: given with the flags, from the environment
    (env mode) or stored; one that is none of these is asked at the end."""
    from astra_auth.commands.configure.answers import Secret
    from astra_auth.storage.secretstore import entry

    answers = s.answers
    for kind in AUTH_TYPES[answers.auth_type].secret_kinds(answers):
        given = s.given.get(kind)
        if given is not None:
            answers.secrets[kind] = Secret("new", given)
        elif answers.secrets_mode == "env":
            answers.secrets[kind] = Secret("env")
        elif s.deps.secrets.get(entry(answers.name, kind)) is not None:
            answers.secrets[kind] = Secret("stored")


def _entries(s: Session) -> tuple[Target, list[tuple[str, str, Step]]]:
    """The settings as they stand, and the menu: (label, current value, the
    step that asks it again)."""
    from astra_auth.commands.configure.summary import SECRET_TEXT

    answers = s.answers
    auth_type = AUTH_TYPES[answers.auth_type]
    target = Target(name=answers.name, url=answers.url or None, auth_type=auth_type.key,
                    **auth_type.settings(answers))

    def secret(kind: str) -> str:
        state = answers.secrets.get(kind)
        return SECRET_TEXT[state.state] if state else "missing: asked when you are done"

    entries: list[tuple[str, str, Step]] = [
        ("API URL", answers.url or NOT_SET, ask_api_url),
        ("Authentication type", auth_type.choice.label, _change_type),
    ]
    for label, value in auth_type.summary(target, secret):
        step = _step_for(label, auth_type.steps)
        if step is not None:
            entries.append((label, NOT_SET if value == "—" else value, step))
    return target, entries


# The menu's value for a setting that has none (the summary's "—").
NOT_SET = "not set"


def _step_for(label: str, steps: Sequence[Step]) -> Step | None:
    """The step that asks the setting a summary row shows: the one whose name
    (`ask_client_id`) is in the label ("Client ID"), the longest such; the
    first step of a type shapes the rest (the grant, the algorithm), so after
    it the following steps are asked again, each offering its current value."""
    from astra_auth.commands.configure.answers import SECRETS
    from astra_auth.commands.configure.ask import ask_secret

    key = label.lower().replace(" ", "_")
    found = [step for step in steps if step.__name__.startswith("ask_")
             and step.__name__[4:] in key]
    if found:
        step = max(found, key=lambda st: len(st.__name__))
        if step is not steps[0]:
            return step

        def from_here(s: Session) -> None:
            for later in steps:
                later(s)

        return from_here
    if key in SECRETS:
        return lambda s: ask_secret(s, key)
    return None


def _change_type(s: Session) -> None:
    before = s.answers.auth_type
    ask_auth_type(s)
    if s.answers.auth_type == before:
        return
    auth_type = AUTH_TYPES[s.answers.auth_type]
    refuse_foreign_flags(s, auth_type)
    s.answers.secrets.clear()
    for step in auth_type.steps:
        step(s)
