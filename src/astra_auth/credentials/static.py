"""Credentials that do not change while a scan runs: Basic, a bearer token, an API key.

Each is read from the target's variables or the keyring once per source, and a
refusal by the API is never "renewed": the same secret would be sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from astra_auth.core.failure import Failure
from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.secrets import MissingSecret, read_secret
from astra_auth.deps import Deps
from astra_auth.storage.config import Target


class StaticSource:
    """A `CredentialSource` for a credential built once from one secret."""

    def __init__(self, target: Target, deps: Deps, settings: SourceSettings, kind: str,
                 what: str, build: Callable[[str], Credential]) -> None:
        self.target = target
        self._settings = settings
        self._deps = deps
        self._kind = kind
        self._what = what
        self._build = build
        self._credential: Credential | None = None

    def get(self) -> Credential:
        if self._credential is None:
            try:
                secret = read_secret(self.target, self._deps, self._kind, self._what)
            except MissingSecret as exc:
                raise failed(self.target, self._settings,
                             secret_error(self.target, self._kind, exc.failure)) from None
            self._credential = self._build(secret)
        return self._credential

    def peek(self) -> Credential | None:
        return self._credential

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        return None


def failed(target: Target, settings: SourceSettings, error: Any) -> Any:
    """Report a CredentialError to the consumer's log (the proxy's), then return it."""
    if settings.on_event is not None:
        settings.on_event("failed", f"{target.name}: no credential: {error.failure.category}: "
                                    f"{error.failure.message}")
    return error


def secret_error(target: Target, kind: str, failure: Failure) -> Any:
    """The CredentialError for a missing secret of a type without a token endpoint."""
    from astra_auth.core.failure import CredentialError
    from astra_auth.diagnosis.hints import missing_secret_hints

    usable = {"usable": True, "unusable": False}.get(failure.details.get("keyring", ""))
    return CredentialError(failure, missing_secret_hints(failure, target.name, kind,
                                                    target.secrets_mode, usable))


def invalid_secret(target: Target, deps: Deps, kind: str, reason: str) -> Any:
    """The CredentialError for a secret that cannot sign (`invalid_key`): the
    signing schemes' keys, passwords and access keys."""
    from astra_auth.core.failure import Category, CredentialError
    from astra_auth.diagnosis.hints import invalid_secret_hints
    from astra_auth.storage.secretstore import env_source

    what = kind.replace("_", " ")
    failure = Failure(Category.INVALID_KEY,
                      f"The {what} of {target.name} cannot be used: {reason}")
    return CredentialError(failure, invalid_secret_hints(
        target, kind, env_source(target.name, kind, deps.environ)))
