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
from astra_auth.secretstore import CLIENT_SECRET_ENV, PASSWORD_ENV, entry, locate


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
    client_secret = _secret(target, deps, "client_secret", CLIENT_SECRET_ENV, "client secret")
    password = None
    if o.grant_type == "password":
        password = _secret(target, deps, "password", PASSWORD_ENV, "password")
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


def _secret(target: Target, deps: Deps, kind: str, env_name: str, what: str) -> str:
    assert target.oauth2 is not None
    try:
        _, value = locate(target.name, kind, target.oauth2.secrets, deps.environ,
                              deps.secrets)
    except KeyringUnavailable as exc:
        raise MissingSecret(Failure(
            Category.MISSING_SECRET,
            f"The {what} for {target.name} could not be read: {exc.message}",
        )) from None
    if value is not None:
        return value
    if target.oauth2.secrets == "env":
        raise MissingSecret(Failure(
            Category.MISSING_SECRET,
            f"The {what} for {target.name} is read from {env_name}, which is not set.",
        ))
    raise MissingSecret(Failure(
        Category.MISSING_SECRET,
        f"No {what} for {target.name}: nothing in the keyring (entry "
        f"{entry(target.name, kind)!r}) and {env_name} is not set.",
    ))
