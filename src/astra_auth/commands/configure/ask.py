"""Questions the walk-through's steps share: a checked value, an optional one,
and a hidden secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from astra_auth.commands.configure.answers import SECRETS, Secret, Session
from astra_auth.core import validate
from astra_auth.core.errors import KeyringUnavailable
from astra_auth.storage.secretstore import entry, env_names
from astra_auth.ui.prompter import Choice

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def ask_valid(
    deps: Deps,
    message: str,
    default: str | None,
    check: Callable[[str], str],
    *,
    optional: bool = False,
) -> str:
    """Ask until the answer passes `check`, saying why each refused one failed."""
    while True:
        answer = deps.prompter.text(message, default=default)
        if optional and not answer.strip():
            return ""
        try:
            return check(answer)
        except ValueError as exc:
            deps.io.warn(f"{exc}. Try again.")


def ask_choice(deps: Deps, message: str, choices: list[tuple[str, Choice]],
               current: str | None, note: str = "") -> str:
    """One of `choices` (value, what the menu shows), `current` preselected
    when it is among them, else the first; `note` is said below them."""
    keys = [key for key, _ in choices]
    index = deps.prompter.select(message, [choice for _, choice in choices],
                                 default=keys.index(current) if current in keys else 0,
                                 note=note)
    return keys[index]


def ask_optional(
    deps: Deps, message: str, current: str | None, check: Callable[[str], str]
) -> str:
    """An optional value: Enter keeps the current one, '-' removes it ("")."""
    if current:
        message += " — Enter keeps it, '-' removes it"
    answer = ask_valid(deps, message, current, lambda v: v if v.strip() == "-" else check(v),
                       optional=True)
    return "" if answer.strip() == "-" else answer


def ask_secret(s: Session, kind: str) -> None:
    """Settle one secret: from the environment at run time (`--secrets env`),
    given with the flags, or typed hidden; Enter keeps a stored one."""
    spec = SECRETS[kind]
    answers, deps = s.answers, s.deps
    if answers.secrets_mode == "env":
        specific, generic = env_names(answers.name, kind)
        deps.io.info(f"{spec.label}: not stored; read from {specific} (or {generic}, for "
                     "every target) when astra-auth runs.")
        answers.secrets[kind] = Secret("env")
        return
    given = s.given.get(kind)
    if given is not None:
        answers.secrets[kind] = Secret("new", given)
        return
    # Reading the keyring here also proves it is usable before anything is saved.
    try:
        stored = deps.secrets.get(entry(answers.name, kind)) is not None
    except KeyringUnavailable as exc:
        # It failed only now (locked half-way): keep the answers, offer the environment.
        deps.io.warn(exc.message)
        if not deps.prompter.confirm("Keep this target's secrets in environment variables "
                                     "instead?", default=True):
            raise
        answers.secrets_mode = "env"
        for settled in answers.secrets:
            answers.secrets[settled] = Secret("env")
        ask_secret(s, kind)
        return
    message = (f"{spec.label} (hidden; Enter keeps the stored one)" if stored
               else f"{spec.label} (hidden)")
    while True:
        answer = deps.prompter.secret(message)
        if not answer and stored:
            answers.secrets[kind] = Secret("stored")
            return
        try:
            value = validate.secret_value(answer, spec.what)
        except ValueError as exc:
            deps.io.warn(f"{exc}. Try again.")
            continue
        answers.secrets[kind] = Secret("new", value)
        return


def old_settings(s: Session, key: str) -> Any:
    """The settings of type `key` that a question offers as its default: the
    values as they stand when the menu asks one again, else the existing
    target's (None when it has not that type)."""
    current = s.current or s.answers.existing
    return getattr(current, key) if current is not None else None
