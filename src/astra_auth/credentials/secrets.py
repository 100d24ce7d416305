"""A target's secrets at run time: its environment variables win over the keyring.

A pipeline can override a stored secret without touching the machine's keyring
(docs: "Files and secrets").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.core.errors import KeyringUnavailable
from astra_auth.core.failure import Category, Failure
from astra_auth.storage.secretstore import entry, env_names, locate

if TYPE_CHECKING:
    from astra_auth.deps import Deps
    from astra_auth.storage.config import Target


class SecretProblem(Exception):
    """A secret the credential needs cannot be had or cannot be used; `failure`
    says which (`missing_secret` or `invalid_key`) and why."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class MissingSecret(SecretProblem):
    """A secret is neither in the environment nor in the keyring."""


class InvalidKey(SecretProblem):
    """A private key or certificate that cannot be used (`invalid_key`)."""


def read_secret(target: Target, deps: Deps, kind: str, what: str) -> str:
    """A target's secret of `kind`: from its variables, else the keyring.

    Raises MissingSecret (the `missing_secret` category) naming where it looked.
    """
    mode = target.secrets_mode
    try:
        _, value = locate(target.name, kind, mode, deps.environ, deps.secrets)
    except KeyringUnavailable as exc:
        raise MissingSecret(Failure(
            Category.MISSING_SECRET,
            f"The {what} for {target.name} could not be read: {exc.message}",
            details={"kind": kind, "keyring": "unusable"},
        )) from None
    if value is not None:
        return value
    specific, generic = env_names(target.name, kind)
    if mode == "env":
        raise MissingSecret(Failure(
            Category.MISSING_SECRET,
            f"The {what} for {target.name} is read from {specific} (or {generic}), "
            "neither of which is set.",
            details={"kind": kind},
        ))
    raise MissingSecret(Failure(
        Category.MISSING_SECRET,
        f"No {what} for {target.name}: nothing in the keyring (entry "
        f"{entry(target.name, kind)!r}) and neither {specific} nor {generic} is set.",
        details={"kind": kind, "keyring": "usable"},
    ))


def read_optional_secret(target: Target, deps: Deps, kind: str) -> str | None:
    """A secret the credential uses where there is one (aws_sigv4's session
    token): its variables, else the keyring; None when neither has it."""
    try:
        _, value = locate(target.name, kind, target.secrets_mode, deps.environ, deps.secrets)
    except KeyringUnavailable:
        return None  # the required secret beside it was read from the same keyring
    return value
