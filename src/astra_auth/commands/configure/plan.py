"""From answers to a plan: the target's new settings and the keyring changes.

One function for both ways of answering; it asks nothing and touches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from astra_auth.commands.configure.answers import Answers
from astra_auth.commands.configure.auth_types import AUTH_TYPES
from astra_auth.storage.config import Target
from astra_auth.storage.secretstore import entry


@dataclass
class Plan:
    target: Target
    is_new: bool
    secrets_mode: str = "keyring"
    # Keyring entry -> new value, or None to delete it.  All or nothing.
    secret_changes: dict[str, str | None] = field(default_factory=dict, repr=False)
    # Entries no longer used, removed after the save where the keyring allows.
    cleanup: list[str] = field(default_factory=list)
    # For the summary, by kind: how each secret ends up ("new", "stored", "env").
    secret_states: dict[str, str] = field(default_factory=dict)
    # The target as it was (None for a new one): the summary marks what changed.
    previous: Target | None = None


def build_plan(answers: Answers) -> Plan:
    auth_type = AUTH_TYPES[answers.auth_type]
    name = answers.name
    changes: dict[str, str | None] = {}
    for kind, secret in answers.secrets.items():
        if secret.state == "new":
            assert secret.value is not None
            changes[entry(name, kind)] = secret.value
    return Plan(
        target=Target(name=name, url=answers.url or None, auth_type=auth_type.key,
                      private_host_ok=answers.private_host_ok,
                      ca_bundle=answers.ca_bundle or None, timeout=answers.timeout,
                      **auth_type.settings(answers)),
        is_new=answers.existing is None,
        secrets_mode=answers.secrets_mode,
        secret_changes=changes,
        cleanup=_stale(answers),
        secret_states={kind: secret.state for kind, secret in answers.secrets.items()},
        previous=answers.existing,
    )


def _stale(answers: Answers) -> list[str]:
    """Keyring entries the new settings no longer use.

    A secret that is no longer used must not linger in the keyring; a cached
    token was made with the old settings, so it goes too.
    """
    auth_type = AUTH_TYPES[answers.auth_type]
    needed = [] if answers.secrets_mode == "env" else auth_type.secret_kinds(answers)
    kinds = list(auth_type.kept_kinds)
    existing = answers.existing
    if existing is not None and existing.auth_type not in (None, auth_type.key):
        # A target that changes type leaves none of the old type's secrets behind.
        kinds += AUTH_TYPES[existing.auth_type].kept_kinds
    login = ([entry(answers.name, "refresh_token")]
             if existing is not None and existing.oauth2 is not None
             and existing.oauth2.needs_login else [])
    # A refresh token from `login` was made for the old settings (client,
    # provider, scope): it never carries over; configure offers a new login.
    return [entry(answers.name, "token")] + [
        entry(answers.name, kind) for kind in kinds if kind not in needed
    ] + login
