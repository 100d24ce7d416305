"""An API key as `configure` sees it: where it goes, and its value in the keyring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from astra_auth.commands.configure.answers import Answers, AuthType, Session
from astra_auth.commands.configure.ask import ask_choice, ask_secret, ask_valid, old_settings
from astra_auth.core import validate
from astra_auth.storage.config import ApiKey, Target
from astra_auth.ui.prompter import Choice

LOCATIONS = [
    ("header", Choice("Header", "e.g. X-API-Key: …")),
    ("query", Choice("Query parameter", "e.g. ?api_key=…")),
    ("cookie", Choice("Cookie", "e.g. Cookie: session=…")),
]


# Asked after the location, in its terms, with a usual name as the default.
NAME_PROMPTS = {"header": ("Header name", "X-API-Key"),
                "query": ("Query parameter name", "api_key"),
                "cookie": ("Cookie name", None)}


def ask_location(s: Session) -> None:
    old = old_settings(s, "api_key")
    if s.opts.key_location is not None:
        s.answers.fields["location"] = s.opts.key_location
        return
    s.answers.fields["location"] = ask_choice(s.deps, "Where the key goes", LOCATIONS,
                                              old.location if old else None)


def ask_name(s: Session) -> None:
    """The header, query parameter or cookie name; the current one is offered
    while the location stays the same."""
    if s.opts.key_name:
        s.answers.fields["name"] = s.opts.key_name
        return
    old = old_settings(s, "api_key")
    location = s.answers.fields["location"]
    prompt, usual = NAME_PROMPTS[location]
    s.answers.fields["name"] = ask_valid(
        s.deps, prompt, old.name if old and old.location == location else usual,
        validate.key_name)


def ask_key(s: Session) -> None:
    ask_secret(s, "api_key")


def from_flags(s: Session) -> None:
    old = old_settings(s, "api_key")
    name = s.opts.key_name or (old.name if old else None)
    if name is None:
        s.missing.append("--key-name")
    s.answers.fields["name"] = name
    s.answers.fields["location"] = s.opts.key_location or (old.location if old else "header")


def settings(answers: Answers) -> dict[str, Any]:
    return {"api_key": ApiKey(name=answers.fields["name"], location=answers.fields["location"],
                              secrets=answers.secrets_mode)}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    key = target.api_key
    assert key is not None
    return [("Key location", dict(LOCATIONS)[key.location].label), ("Key name", key.name),
            ("API key", secret("api_key"))]


TYPE = AuthType(
    key="api_key",
    choice=Choice(validate.AUTH_LABELS["api_key"], "a key in a header, query parameter or cookie"),
    steps=(ask_location, ask_name, ask_key),
    from_flags=from_flags,
    from_provider=lambda s: None,
    secret_kinds=lambda answers: ["api_key"],
    kept_kinds=("api_key",),
    settings=settings,
    summary=summary,
    flags=("--key-name", "--key-location", "--api-key-stdin"),
)
