"""HTTP Digest (RFC 7616) as `configure` sees it: a username, and the password
in the keyring; the API's challenge is answered on each request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from astra_auth.commands.configure.answers import Answers, AuthType, Session
from astra_auth.commands.configure.ask import ask_secret, ask_valid, old_settings
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.storage.config import Digest, Target
from astra_auth.ui.prompter import Choice


def _username(value: str) -> str:
    value = validate.plain_value(value, "username", validate.MAX_USERNAME)
    if any(ch in value for ch in '"\\'):
        # RFC 7616 §3.4: the username goes into a quoted string as it is.
        raise ValueError("a Digest username cannot contain a double quote or a backslash")
    return value


def ask_username(s: Session) -> None:
    old = old_settings(s, "digest")
    if s.opts.username:
        s.answers.fields["username"] = _from_flag(s.opts.username)
        return
    s.answers.fields["username"] = ask_valid(s.deps, "Username", old.username if old else None,
                                             _username)


def ask_password(s: Session) -> None:
    ask_secret(s, "password")


def _from_flag(value: str) -> str:
    try:
        return _username(value)
    except ValueError as exc:
        raise UsageError(f"--username: {exc}") from None


def from_flags(s: Session) -> None:
    old = old_settings(s, "digest")
    username = s.opts.username or (old.username if old else None)
    if username is None:
        s.missing.append("--username")
    else:
        username = _from_flag(username)
    s.answers.fields["username"] = username


def settings(answers: Answers) -> dict[str, Any]:
    return {"digest": Digest(username=answers.fields["username"], secrets=answers.secrets_mode)}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    assert target.digest is not None
    return [("Username", target.digest.username), ("Password", secret("password"))]


TYPE = AuthType(
    key="digest",
    choice=Choice(validate.AUTH_LABELS["digest"],
                  "the password never sent, only proven (RFC 7616)"),
    steps=(ask_username, ask_password),
    from_flags=from_flags,
    from_provider=lambda s: None,
    secret_kinds=lambda answers: ["password"],
    kept_kinds=("password",),
    settings=settings,
    summary=summary,
    flags=("--username", "--password", "--password-stdin"),
)
