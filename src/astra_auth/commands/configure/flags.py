"""`configure` in CI: the answers from flags, the environment and the existing
target.  Nothing is asked; every missing value is reported at once (exit 2),
before the keyring or the provider is consulted where that can be avoided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.commands.configure.answers import (
    SECRETS,
    Answers,
    Secret,
    Session,
    refuse_foreign_flags,
    start,
)
from astra_auth.commands.configure.auth_types import AUTH_TYPES
from astra_auth.commands.configure.keys import refuse_unfit_keys
from astra_auth.commands.configure.options import ConfigureOptions, Given, check_secret
from astra_auth.core.errors import KeyringUnavailable, UsageError
from astra_auth.storage.config import Target
from astra_auth.storage.secretstore import entry, env_names, env_source
from astra_auth.text import shellcmd
from astra_auth.text.shellcmd import Placeholder

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def from_flags(
    opts: ConfigureOptions, targets: dict[str, Target], deps: Deps, given: Given
) -> Answers:
    if opts.name is None:
        raise UsageError(
            "missing the target NAME (not running interactively): "
            + shellcmd.configure(Placeholder("NAME"), "--grant-type", Placeholder("…"),
                                 "--token-url", Placeholder("…"), "--client-id", Placeholder("…")),
        )
    s = start(opts, deps, given, opts.name, targets)
    auth_type = AUTH_TYPES[s.answers.auth_type]
    refuse_foreign_flags(s, auth_type)
    auth_type.from_flags(s)
    for kind in auth_type.secret_kinds(s.answers):
        _settle_secret(s, kind)
    if s.missing:
        raise UsageError(
            "missing required values (not running interactively, so nothing is asked): "
            + ", ".join(s.missing)
        )
    auth_type.from_provider(s)
    refuse_unfit_keys(s)
    return s.answers


def _warn_unset(name: str, kind: str, deps: Deps) -> None:
    per_target, generic = env_names(name, kind)
    deps.io.warn(f"{per_target} (or {generic}) is not set here; set it wherever astra-auth runs")


def _settle_secret(s: Session, kind: str) -> None:
    """A given secret, else the environment's (stored in the keyring), else the
    stored one; a missing one is reported with the flag that gives it."""
    answers, deps = s.answers, s.deps
    variable = env_source(answers.name, kind, deps.environ)
    if kind in answers.secrets:  # settled by the type itself (a key it makes, an optional secret)
        if answers.secrets[kind].state == "env" and variable is None:
            _warn_unset(answers.name, kind, deps)
        return
    spec = SECRETS[kind]
    if answers.secrets_mode == "env":
        answers.secrets[kind] = Secret("env")
        if variable is None:
            _warn_unset(answers.name, kind, deps)
        return
    value = s.given.get(kind)
    if value is None and variable is not None:
        value = check_secret(deps.environ[variable], variable, spec.what,
                             multiline=spec.multiline)
    if value is not None:
        answers.secrets[kind] = Secret("new", value)
        return
    missing = AUTH_TYPES[answers.auth_type].missing.get(kind, spec.missing)
    if answers.existing is None:
        # A new target has no stored secret to keep: report the flag without
        # asking the keyring, which may not even be usable here.
        s.missing.append(missing)
        return
    try:
        stored = deps.secrets.get(entry(answers.name, kind)) is not None
    except KeyringUnavailable:
        if s.missing:
            return  # the usage error about the other values comes first
        raise
    if stored:
        answers.secrets[kind] = Secret("stored")
    else:
        s.missing.append(missing)
