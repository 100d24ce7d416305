"""The oauth2 auth type as `configure` sees it: its walk-through steps, how its
flags fill the answers, the secrets it needs, its settings and summary rows.

A new grant or client-authentication method is a row in its choice table,
plus a step where it asks for something new and its keyring kind in
`secret_kinds` where it needs another secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from astra_auth import validate
from astra_auth.commands.configure import provider
from astra_auth.commands.configure.answers import Answers, AuthType, Session, Step
from astra_auth.commands.configure.ask import ask_optional, ask_secret, ask_valid
from astra_auth.commands.configure.options import refuse_user_flags
from astra_auth.config import OAuth2, Target
from astra_auth.prompter import Choice

GRANT_CHOICES = [
    ("client_credentials", Choice(
        validate.GRANT_LABELS["client_credentials"],
        "no user context: the scanner acts as the application itself",
    )),
    ("password", Choice(
        validate.GRANT_LABELS["password"],
        "on behalf of one user account whose username and password you provide",
    )),
]
CLIENT_AUTH_CHOICES = [
    ("basic", Choice("basic", "HTTP Basic header (RFC 6749 §2.3.1); most providers")),
    ("post", Choice("post", "client_id and client_secret in the form body")),
]


def _old(s: Session) -> OAuth2 | None:
    """The target's current oauth2 settings, when it has them."""
    existing = s.answers.existing
    return existing.oauth2 if existing else None


def secret_kinds(answers: Answers) -> list[str]:
    # Both client-authentication methods (basic, post) send the client secret.
    kinds = ["client_secret"]
    if answers.oauth2.grant_type == "password":
        kinds.append("password")
    return kinds


# ---------------------------------------------------------------------------
# The walk-through's steps, in the order they are asked


def ask_grant(s: Session) -> None:
    o, old = s.answers.oauth2, _old(s)
    if s.opts.grant_type is not None:
        o.grant_type = s.opts.grant_type
        return
    keys = [k for k, _ in GRANT_CHOICES]
    current = keys.index(old.grant_type) if old else 0
    o.grant_type = keys[
        s.deps.prompter.select("Grant type", [c for _, c in GRANT_CHOICES], default=current)
    ]


def ask_token_url(s: Session) -> None:
    """Typed, or read from the issuer's discovery document."""
    o, old, deps = s.answers.oauth2, _old(s), s.deps
    token_url = s.opts.token_url
    if s.opts.issuer is not None:
        token_url = provider.from_issuer(s, s.opts.issuer)
    if token_url is None and old is None:
        metadata = _ask_issuer(s)
        if metadata is not None:
            s.metadata = metadata
            token_url = metadata.token_endpoint
    if token_url is None:
        token_url = ask_valid(
            deps, "Access Token URL", old.token_url if old else None, validate.token_url
        )
    provider.warn_about_url(s, token_url)
    assert o.grant_type is not None  # asked before
    provider.learn(s, token_url, o.grant_type,
                   changed=old is None or token_url != old.token_url)
    o.token_url = token_url


def _ask_issuer(s: Session) -> Any:
    """Offer discovery; the metadata when the user took it, else None."""
    deps = s.deps
    choice = deps.prompter.select("Access Token URL", [
        Choice("I have the Access Token URL"),
        Choice("I only know my issuer URL",
               "read the token endpoint from the provider's discovery document"),
    ], default=0)
    if choice == 0:
        return None
    while True:
        issuer = ask_valid(deps, "Issuer URL (e.g. https://idp.example.com/realms/main)",
                           None, validate.token_url)
        metadata = provider.try_issuer(issuer, deps)
        if metadata is None:
            if deps.prompter.confirm("Try another issuer URL?", default=True):
                continue
            return None
        deps.io.info(f"The discovery document {metadata.source} names the token endpoint "
                     f"{metadata.token_endpoint}")
        if deps.prompter.confirm("Use it as the Access Token URL?", default=True):
            return metadata
        return None


def ask_client_id(s: Session) -> None:
    old = _old(s)
    s.answers.oauth2.client_id = s.opts.client_id or ask_valid(
        s.deps, "Client ID", old.client_id if old else None,
        lambda v: validate.plain_value(v, "client ID", validate.MAX_CLIENT_ID),
    )


def ask_client_secret(s: Session) -> None:
    ask_secret(s, "client_secret")


def ask_user(s: Session) -> None:
    """Username and password, for the password grant only."""
    o, old = s.answers.oauth2, _old(s)
    if o.grant_type != "password":
        return
    o.username = s.opts.username or ask_valid(
        s.deps, "Username", old.username if old else None,
        lambda v: validate.plain_value(v, "username", validate.MAX_USERNAME),
    )
    ask_secret(s, "password")


def ask_scope(s: Session) -> None:
    old = _old(s)
    s.answers.oauth2.scope = s.opts.scope if s.opts.scope is not None else ask_optional(
        s.deps, "Scope (optional, space-separated)", old.scope if old else None,
        lambda v: validate.plain_value(v, "scope", validate.MAX_SCOPE),
    )


def ask_audience(s: Session) -> None:
    old = _old(s)
    s.answers.oauth2.audience = s.opts.audience if s.opts.audience is not None else ask_optional(
        s.deps, "Audience (optional, sent as `audience`)", old.audience if old else None,
        lambda v: validate.plain_value(v, "audience", validate.MAX_URL),
    )


def ask_client_auth(s: Session) -> None:
    o, old = s.answers.oauth2, _old(s)
    if s.opts.client_auth is not None:
        o.client_auth = s.opts.client_auth
        return
    keys = [k for k, _ in CLIENT_AUTH_CHOICES]
    suggested = provider.suggested_client_auth(s)
    current = keys.index(old.client_auth) if old else keys.index(suggested or "basic")
    o.client_auth = keys[
        s.deps.prompter.select("Client authentication", [c for _, c in CLIENT_AUTH_CHOICES],
                               current)
    ]


STEPS: tuple[Step, ...] = (ask_grant, ask_token_url, ask_client_id, ask_client_secret, ask_user, ask_scope,
         ask_audience, ask_client_auth)


# ---------------------------------------------------------------------------
# Flags (CI)


def from_flags(s: Session) -> None:
    """A flag replaces the stored value; what no flag names stays as it was."""
    opts, o, old = s.opts, s.answers.oauth2, _old(s)
    o.grant_type = opts.grant_type or (old.grant_type if old else None)
    o.token_url = opts.token_url or (old.token_url if old else None)
    o.client_id = opts.client_id or (old.client_id if old else None)
    if opts.issuer is not None:
        o.token_url = provider.from_issuer(s, opts.issuer)
    if o.grant_type is None:
        s.missing.append("--grant-type")
    if o.token_url is None:
        s.missing.append("--token-url (or --issuer)")
    if o.client_id is None:
        s.missing.append("--client-id")
    o.username = opts.username or (old.username if old and o.grant_type == "password" else None)
    if o.grant_type == "password" and o.username is None:
        s.missing.append("--username")
    if o.grant_type != "password":
        refuse_user_flags(opts)
    o.client_auth = opts.client_auth or (old.client_auth if old else None)
    # `--scope ""` clears the value ("" is saved as none).
    o.scope = opts.scope if opts.scope is not None else (old.scope if old else None)
    o.audience = opts.audience if opts.audience is not None else (old.audience if old else None)


def from_provider(s: Session) -> None:
    o, old = s.answers.oauth2, _old(s)
    assert o.grant_type and o.token_url  # checked by from_flags
    provider.learn(s, o.token_url, o.grant_type,
                   changed=old is None or s.opts.token_url is not None)
    if o.client_auth is None:
        o.client_auth = provider.client_auth_from_metadata(s) or "basic"
    provider.warn_about_url(s, o.token_url)


# ---------------------------------------------------------------------------
# Settings and summary


def settings(answers: Answers) -> dict[str, Any]:
    o = answers.oauth2
    # Both paths settle these before the plan is built.
    assert o.grant_type and o.token_url and o.client_id and o.client_auth
    return {"oauth2": OAuth2(
        grant_type=o.grant_type,
        token_url=o.token_url,
        client_id=o.client_id,
        client_auth=o.client_auth,
        scope=o.scope or None,
        audience=o.audience or None,
        username=o.username if o.grant_type == "password" else None,
        secrets=answers.secrets_mode,
    )}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    o = target.oauth2
    assert o is not None
    rows = [
        ("Grant type", dict(GRANT_CHOICES)[o.grant_type].label),
        ("Access Token URL", o.token_url),
        ("Client ID", o.client_id),
        ("Client secret", secret("client_secret")),
    ]
    if o.grant_type == "password":
        rows += [("Username", o.username or ""), ("Password", secret("password"))]
    rows += [
        ("Scope", o.scope or "—"),
        ("Audience", o.audience or "—"),
        ("Client authentication", o.client_auth),
    ]
    return rows


TYPE = AuthType(
    flags=("--grant-type", "--token-url", "--issuer", "--client-id", "--client-secret",
           "--client-secret-stdin", "--client-auth", "--scope", "--audience", "--username",
           "--password", "--password-stdin"),
    key="oauth2",
    choice=Choice(validate.AUTH_LABELS["oauth2"], "tokens from an OAuth 2.0 token endpoint"),
    steps=STEPS,
    from_flags=from_flags,
    from_provider=from_provider,
    secret_kinds=secret_kinds,
    kept_kinds=("client_secret", "password"),
    settings=settings,
    summary=summary,
)
