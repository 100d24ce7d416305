"""A bearer token issued elsewhere, as `configure` sees it: the token, in the keyring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from astra_auth.commands.configure.answers import Answers, AuthType, Session
from astra_auth.commands.configure.ask import ask_secret
from astra_auth.core import validate
from astra_auth.storage.config import Bearer, Target
from astra_auth.ui.prompter import Choice


def ask_token(s: Session) -> None:
    ask_secret(s, "bearer_token")


def settings(answers: Answers) -> dict[str, Any]:
    return {"bearer": Bearer(secrets=answers.secrets_mode)}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    return [("Bearer token", secret("bearer_token"))]


TYPE = AuthType(
    key="bearer",
    choice=Choice(validate.AUTH_LABELS["bearer"], "a long-lived token from elsewhere, sent as it is"),
    steps=(ask_token,),
    from_flags=lambda s: None,
    from_provider=lambda s: None,
    secret_kinds=lambda answers: ["bearer_token"],
    kept_kinds=("bearer_token",),
    settings=settings,
    summary=summary,
    flags=("--token-stdin",),
)
