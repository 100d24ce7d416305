"""Test doubles with verification: a scripted prompter and an in-memory keyring."""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from astra_auth.deps import Deps
from astra_auth.ui.iostreams import IOStreams
from astra_auth.ui.prompter import Choice

# Secrets used across the suite.  They contain the characters that break naive
# encoding (':' '%' '+' '/', a space and non-ASCII) so that a leak is found even
# when it is percent-encoded... and so that the code that stores them is exercised.
CLIENT_SECRET = "cs-7Zq:x%2B+/é-SECRET-1f3a"
PASSWORD = "pw-Hunter2:%+/ü PASS word-9c1d"
ALL_SECRETS = (CLIENT_SECRET, PASSWORD)


class MemoryStore:
    """A keyring in a dict; `fail_on` makes chosen calls raise like a broken one."""

    def __init__(self, data: dict[str, str] | None = None) -> None:
        self.data = dict(data or {})
        self.fail_on: set[str] = set()
        self.calls: list[tuple[str, str]] = []

    def _maybe_fail(self, op: str, key: str) -> None:
        self.calls.append((op, key))
        if op in self.fail_on or f"{op}:{key}" in self.fail_on:
            from astra_auth.core.errors import KeyringUnavailable

            raise KeyringUnavailable("the keyring is locked")

    def get(self, key: str) -> str | None:
        self._maybe_fail("get", key)
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self._maybe_fail("set", key)
        self.data[key] = value

    def delete(self, key: str) -> None:
        self._maybe_fail("delete", key)
        self.data.pop(key, None)


def broken_store() -> MemoryStore:
    """A keyring that fails every call, as a locked or absent one does."""
    store = MemoryStore()
    store.fail_on = {"get", "set", "delete"}
    return store


@dataclass
class Step:
    kind: str  # "select", "text", "secret" or "confirm"
    prompt: str  # a part of the prompt text that must appear
    answer: object  # an index, a string, a bool, or an exception to raise


# A new target's first question after its name (the walk-through's offer to
# read the API's OpenAPI document or Postman collection), answered with Enter.
NO_DOCUMENT = Step("text", "Do you have the API's OpenAPI document or a Postman collection?", "")

TOKEN_URL = "https://idp.example.com/oauth/token"
# The walk-through's grant menu, in its order.
GRANT_TYPES = ("client_credentials", "password", "device_code", "authorization_code")


def new_target(name: str = "payments-api", url: str = "https://api.example.com") -> list[Step]:
    """A new target's first questions: its name, no document to read, its API URL."""
    return [Step("text", "Target name", name), NO_DOCUMENT, Step("text", "API URL", url)]


def oauth2_steps(grant: str = "client_credentials", *, token_url: str = TOKEN_URL,
                 authorization_url: str | None = None, client_id: str = "scanner-app",
                 client_auth: int | None = 0, secret: str = CLIENT_SECRET,
                 username: str | None = None, password: str | None = None,
                 scope: str = "", audience: str = "", extra: str = "",
                 optional: bool = True) -> list[Step]:
    """OAuth 2.0's questions, from the authentication type to the extra token
    parameters, for a provider whose Access Token URL is known.  `client_auth`
    is the index in the client authentication menu (None: Enter, the
    preselected one); `username` and `password` are asked after the client
    secret when given; `optional=False` stops before the scope."""
    steps = [
        Step("select", "Authentication type", 0),
        Step("select", "Grant type", GRANT_TYPES.index(grant)),
        Step("select", "Access Token URL", 0),  # "I have the Access Token URL"
        Step("text", "Access Token URL", token_url),
    ]
    if authorization_url is not None:
        steps.append(Step("text", "Authorization URL", authorization_url))
    steps += [
        Step("text", "Client ID", client_id),
        Step("select", "Client authentication", client_auth),
        Step("secret", "Client secret", secret),
    ]
    if username is not None:
        steps.append(Step("text", "Username", username))
    if password is not None:
        steps.append(Step("secret", "Password", password))
    if optional:
        steps += [Step("text", "Scope", scope), Step("text", "Audience", audience),
                  Step("text", "Extra token parameters", extra)]
    return steps


def oauth2_walkthrough(name: str = "payments-api", *, url: str = "https://api.example.com",
                **oauth2: object) -> list[Step]:
    """The walk-through of a new OAuth 2.0 target, up to the save question:
    `new_target` then `oauth2_steps(**oauth2)`."""
    return new_target(name, url) + oauth2_steps(**oauth2)  # type: ignore[arg-type]


class ScriptedPrompter:
    """Answers prompts in order, by prompt text; anything unexpected fails the test.

    `verify()` fails when a scripted answer was never asked for.
    """

    def __init__(self, steps: Sequence[Step] = ()) -> None:
        self.steps = list(steps)
        self.asked: list[tuple[str, str]] = []
        # The CLI turns unexpected exceptions into "internal error"; keep the
        # first mismatch here so that verify() reports it plainly.
        self.failure: str | None = None

    def _fail(self, text: str) -> AssertionError:
        self.failure = self.failure or text
        return AssertionError(text)

    def _next(self, kind: str, message: str) -> object:
        self.asked.append((kind, message))
        if not self.steps:
            raise self._fail(f"unexpected {kind} prompt {message!r}: script is empty")
        step = self.steps.pop(0)
        if step.kind != kind or step.prompt.lower() not in message.lower():
            raise self._fail(
                f"expected {step.kind} prompt containing {step.prompt!r}, got {kind} {message!r}"
            )
        if isinstance(step.answer, BaseException) or (
            isinstance(step.answer, type) and issubclass(step.answer, BaseException)
        ):
            raise step.answer  # type: ignore[misc]
        return step.answer

    def select(self, message: str, choices: Sequence[Choice], default: int = 0,
               note: str = "") -> int:
        answer = self._next("select", message)
        if answer is None:
            return default
        assert isinstance(answer, int) and 0 <= answer < len(choices), (answer, choices)
        return answer

    def text(self, message: str, default: str | None = None) -> str:
        answer = self._next("text", message)
        if answer is None or answer == "":
            return default or ""
        return str(answer)

    def secret(self, message: str) -> str:
        return str(self._next("secret", message))

    def confirm(self, message: str, default: bool) -> bool:
        answer = self._next("confirm", message)
        return default if answer is None else bool(answer)

    def verify(self) -> None:
        assert self.failure is None, self.failure
        assert not self.steps, f"scripted answers never asked for: {self.steps}"


def make_deps(
    config_path: Path,
    *,
    secrets: MemoryStore | None = None,
    prompter: ScriptedPrompter | None = None,
    stdin: str = "",
    tty: bool = False,
    environ: dict[str, str] | None = None,
    address_warning: object = None,
    clock: object = None,
    metadata_lookup: object = None,
    stderr: object = None,
    **more: object,
) -> Deps:
    """`more`: any other Deps field (login's `sleep`, `open_browser`, `monotonic`)."""
    streams = IOStreams(
        stdin=io.StringIO(stdin),
        stdout=sys.stdout,
        stderr=stderr or sys.stderr,  # type: ignore[arg-type]
        stdin_is_tty=tty,
        stdout_is_tty=tty,
        width=200,
    )
    return Deps(
        io=streams,
        config_path=config_path,
        secrets=secrets if secrets is not None else MemoryStore(),
        prompter=prompter if prompter is not None else ScriptedPrompter(),
        environ=environ or {},
        address_warning=address_warning or (lambda url: None),  # type: ignore[arg-type]
        # No network lookups unless a test asks: "network" uses Deps' own.
        metadata_lookup=(None if metadata_lookup == "network"
                         else metadata_lookup or (lambda url, ca_bundle: None)),  # type: ignore[arg-type]
        **({"clock": clock} if clock is not None else {}),  # type: ignore[arg-type]
        **more,  # type: ignore[arg-type]
    )


class Clock:
    """A clock the test moves by hand: expiry without sleeping."""

    def __init__(self, start: float | None = None) -> None:
        import time

        self.now = start if start is not None else time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ---------------------------------------------------------------------------
# A client-credentials (or password) target whose secrets come from variables,
# for the tests against the fault server (tests/servers/faults.py)

ENV = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": PASSWORD}


def unique() -> str:
    """A path of its own on the shared fault server."""
    return uuid.uuid4().hex[:12]


def add(cli, token_url, *, name="t", grant="client_credentials", environ=None, **kwargs):  # type: ignore[no-untyped-def]
    args = ["configure", name, "--grant-type", grant, "--token-url", token_url,
            "--client-id", "scanner-app", "--secrets", "env"]
    if grant == "password":
        args += ["--username", "john.doe"]
    cli(*args, environ=environ or ENV, **kwargs)


def tt_json(cli, *args, expect, environ=None, **kwargs):  # type: ignore[no-untyped-def]
    result = cli("test-token", *args, "--json", expect=expect, environ=environ or ENV, **kwargs)
    return json.loads(result.out), result


def add_client(cli, name, token_url, *extra, **kwargs):  # type: ignore[no-untyped-def]
    """A client-credentials target named `name`, configured as a user would."""
    cli("configure", name, "--grant-type", "client_credentials", "--token-url", token_url,
        "--client-id", "scanner-app", *extra, **kwargs)


def run_test_token_json(cli, name, expect, **kwargs):  # type: ignore[no-untyped-def]
    """`test-token NAME --json`'s answer, after its exit code was checked."""
    result = cli("test-token", name, "--json", expect=expect, **kwargs)
    return json.loads(result.out)
