"""Turning a configured target into a token request: settings plus secrets.

The environment wins over the keyring at run time (contract): a pipeline can
override a stored secret without touching the machine's keyring.
"""

from __future__ import annotations

from astra_auth.config import Target
from astra_auth.deps import Deps
from astra_auth.errors import ConfigError, KeyringUnavailable
from astra_auth.oauth.failure import Category, Failure
from astra_auth.oauth.grant import GrantRequest
from astra_auth.secretstore import entry, env_names, locate


class MissingSecret(Exception):
    """A secret is neither in the environment nor in the keyring."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def require_oauth2(target: Target) -> None:
    if target.oauth2 is None:
        raise ConfigError(
            f"target {target.name!r} has no authentication configured yet",
            hints=[f"Set it up with: astra-auth configure {target.name}"],
        )


def grant_request(target: Target, deps: Deps) -> GrantRequest:
    require_oauth2(target)
    o = target.oauth2
    assert o is not None
    client_secret = read_secret(target, deps, "client_secret", "client secret")
    password = None
    if o.grant_type == "password":
        password = read_secret(target, deps, "password", "password")
    return GrantRequest(
        token_url=o.token_url,
        grant_type=o.grant_type,
        client_id=o.client_id,
        client_secret=client_secret,
        client_auth=o.client_auth,
        scope=o.scope,
        audience=o.audience,
        username=o.username,
        password=password,
    )


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
