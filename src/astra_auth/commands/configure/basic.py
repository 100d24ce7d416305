"""HTTP Basic as `configure` sees it: a username, and the password in the keyring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from astra_auth.commands.configure.answers import Answers, AuthType, Session
from astra_auth.commands.configure.ask import ask_secret, ask_valid, old_settings
from astra_auth.core import validate
from astra_auth.storage.config import Basic, Target
from astra_auth.ui.prompter import Choice


def _username(value: str) -> str:
    value = validate.plain_value(value, "username", validate.MAX_USERNAME)
    if ":" in value:
        raise ValueError("a Basic username cannot contain ':' (RFC 7617)")
    return value


def ask_username(s: Session) -> None:
    old = old_settings(s, "basic")
    s.answers.fields["username"] = s.opts.username or ask_valid(
        s.deps, "Username", old.username if old else None, _username)


def ask_password(s: Session) -> None:
    ask_secret(s, "password")


def from_flags(s: Session) -> None:
    old = old_settings(s, "basic")
    username = s.opts.username or (old.username if old else None)
    if username is None:
        s.missing.append("--username")
    else:
        try:
            username = _username(username)
        except ValueError as exc:
            from astra_auth.core.errors import UsageError

            raise UsageError(f"--username: {exc}") from None
    s.answers.fields["username"] = username


def settings(answers: Answers) -> dict[str, Any]:
    return {"basic": Basic(username=answers.fields["username"], secrets=answers.secrets_mode)}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    assert target.basic is not None
    return [("Username", target.basic.username), ("Password", secret("password"))]


TYPE = AuthType(
    key="basic",
    choice=Choice(validate.AUTH_LABELS["basic"], "username and password in every request (RFC 7617)"),
    steps=(ask_username, ask_password),
    from_flags=from_flags,
    from_provider=lambda s: None,
    secret_kinds=lambda answers: ["password"],
    kept_kinds=("password",),
    settings=settings,
    summary=summary,
    flags=("--username", "--password", "--password-stdin"),
)
