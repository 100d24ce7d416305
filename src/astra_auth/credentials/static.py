"""Credentials that do not change while a scan runs: Basic, a bearer token, an API key.

Each is read from the target's variables or the keyring once per source, and a
refusal by the API is never "renewed": the same secret would be sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.core.validate import secret_words
from astra_auth.credentials.interface import Credential, SourceSettings
from astra_auth.credentials.secrets import MissingSecret, read_secret
from astra_auth.storage.config import Target
from astra_auth.storage.secretstore import sources

if TYPE_CHECKING:
    from astra_auth.deps import Deps


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
                raise failed(self.target, self._deps, self._settings, exc.failure) from None
            self._credential = self._build(secret)
        return self._credential

    def peek(self) -> Credential | None:
        return self._credential

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        return None


def failed(target: Target, deps: Deps, settings: SourceSettings,
           failure: Failure) -> CredentialError:
    """The CredentialError for `failure`, told to the consumer's log (the
    proxy's) first.  Its hints are the diagnosis layer's to add."""
    if settings.on_event is not None:
        settings.on_event("failed", f"{target.name}: no credential: {failure.category}: "
                                    f"{failure.message}")
    return CredentialError(failure, target=target,
                           secret_sources=sources(target, deps.environ))


def invalid_secret(target: Target, kind: str, reason: str) -> Failure:
    """The failure for a secret that is there but cannot sign (`invalid_key`):
    a signing scheme's key, secret access key or password."""
    what = secret_words(kind)
    return Failure(Category.INVALID_KEY, f"The {what} of {target.name} cannot be used: {reason}",
                   details={"kind": kind})
