"""`astra-auth configure`: the walk-through, interactive or from flags.

Both modes build the same `Plan` (the target's new settings and the keyring
changes), then `save` applies it: secrets first, then the config file under its
lock, undoing the secrets if the file cannot be written.  Nothing is touched
before the plan is complete, so Ctrl-C, Ctrl-D or a refused value at any point
leaves the config file and the keyring as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from astra_auth import validate
from astra_auth.config import OAuth2, Target
from astra_auth.deps import Deps
from astra_auth.errors import AstraError, KeyringUnavailable, UsageError
from astra_auth.prompter import Choice
from astra_auth.secretstore import CLIENT_SECRET_ENV, PASSWORD_ENV, entry, remove_entries

SECRET_FLAG = "--client-secret-stdin (or ASTRA_AUTH_CLIENT_SECRET)"
PASSWORD_FLAG = "--password-stdin (or ASTRA_AUTH_PASSWORD)"

GRANT_CHOICES = [
    ("client_credentials", Choice(
        "Client Credentials",
        "no user context: the scanner acts as the application itself",
    )),
    ("password", Choice(
        "Resource Owner Password",
        "on behalf of one user account whose username and password you provide",
    )),
]
AUTH_CHOICES = [("oauth2", Choice("OAuth 2.0", "tokens from an OAuth 2.0 token endpoint"))]
CLIENT_AUTH_CHOICES = [
    ("basic", Choice("basic", "HTTP Basic header (RFC 6749 §2.3.1); most providers")),
    ("post", Choice("post", "client_id and client_secret in the form body")),
]


@dataclass
class ConfigureOptions:
    name: str | None = None
    auth_type: str | None = None
    grant_type: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_secret_stdin: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_stdin: bool = False
    scope: str | None = None
    audience: str | None = None
    client_auth: str | None = None
    secrets: str | None = None
    url: str | None = None
    no_input: bool = False
    test: bool = False
    issuer: str | None = None


@dataclass
class Plan:
    target: Target
    is_new: bool
    # Keyring entry -> new value, or None to delete it.  All or nothing.
    secret_changes: dict[str, str | None] = field(default_factory=dict, repr=False)
    # Entries no longer used, removed after the save where the keyring allows.
    cleanup: list[str] = field(default_factory=list)
    # For the summary: how each secret ends up ("new", "stored", "env").
    secret_states: dict[str, str] = field(default_factory=dict)


@dataclass
class _Given:
    """Secrets given on the command line or standard input, not yet stored."""

    client_secret: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def configure(opts: ConfigureOptions, deps: Deps) -> None:
    _check_flags(opts)
    interactive = deps.io.can_prompt(no_input=opts.no_input)
    config = deps.config.load()
    given = _read_given_secrets(opts, deps, interactive)
    if interactive:
        plan = _walkthrough(opts, config.targets, deps, given)
        _show_summary(plan, deps)
        if not deps.prompter.confirm("Save these settings?", default=True):
            deps.io.info("Nothing was saved.")
            return
    else:
        plan = _from_flags(opts, config.targets, deps, given)
    save(plan, deps)
    where = (
        "secrets in the OS keyring"
        if plan.target.oauth2 and plan.target.oauth2.secrets == "keyring"
        else f"secrets read from {CLIENT_SECRET_ENV}"
        + (f" and {PASSWORD_ENV}" if _is_password(plan.target) else "")
        + " at run time"
    )
    deps.io.success(f"Saved target {plan.target.name} to {deps.config_path} ({where}).")
    if opts.test or (
        interactive and deps.prompter.confirm("Run test-token now to check it?", default=True)
    ):
        from astra_auth.commands.test_token import TestTokenOptions, test_token

        test_token(TestTokenOptions(name=plan.target.name), deps)


# ---------------------------------------------------------------------------
# Flags


def _check_flags(opts: ConfigureOptions) -> None:
    """Validate every value given as a flag; conflicts are usage errors."""

    def check(flag: str, value: str | None, fn: Callable[[str], str]) -> str | None:
        if value is None:
            return None
        try:
            return fn(value)
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None

    if opts.name is not None:
        opts.name = check("NAME", opts.name, validate.target_name)
    opts.auth_type = check(
        "--auth-type", opts.auth_type, lambda v: validate.choice(v, validate.AUTH_TYPES)
    )
    opts.grant_type = check("--grant-type", opts.grant_type, validate.grant_type)
    opts.token_url = check("--token-url", opts.token_url, validate.token_url)
    opts.issuer = check("--issuer", opts.issuer, validate.token_url)
    if opts.issuer is not None and opts.token_url is not None:
        raise UsageError("--issuer and --token-url cannot be used together: the issuer's "
                         "discovery document names the token URL")
    opts.url = check("--url", opts.url, validate.api_url)
    opts.client_id = check(
        "--client-id", opts.client_id,
        lambda v: validate.plain_value(v, "client ID", validate.MAX_CLIENT_ID),
    )
    opts.username = check(
        "--username", opts.username,
        lambda v: validate.plain_value(v, "username", validate.MAX_USERNAME),
    )
    opts.scope = check(
        "--scope", opts.scope,
        lambda v: validate.plain_value(v, "scope", validate.MAX_SCOPE, allow_empty=True),
    )
    opts.audience = check(
        "--audience", opts.audience,
        lambda v: validate.plain_value(v, "audience", validate.MAX_URL, allow_empty=True),
    )
    opts.client_auth = check(
        "--client-auth", opts.client_auth,
        lambda v: validate.choice(v, validate.CLIENT_AUTH_METHODS),
    )
    opts.secrets = check(
        "--secrets", opts.secrets, lambda v: validate.choice(v, validate.SECRET_MODES)
    )
    if opts.client_secret is not None and opts.client_secret_stdin:
        raise UsageError("--client-secret and --client-secret-stdin cannot be used together")
    if opts.password is not None and opts.password_stdin:
        raise UsageError("--password and --password-stdin cannot be used together")
    if opts.grant_type == "client_credentials":
        _refuse_user_flags(opts)
    if opts.secrets == "env":
        given = _given(opts, "--client-secret", "--client-secret-stdin", "--password",
                       "--password-stdin")
        if given:
            raise UsageError(
                f"{', '.join(given)}: with --secrets env nothing is stored; set "
                f"{CLIENT_SECRET_ENV} / {PASSWORD_ENV} where astra-auth runs instead"
            )


def _given(opts: ConfigureOptions, *flags: str) -> list[str]:
    """Which of these flags the command line used."""
    present = {
        "--username": opts.username is not None,
        "--password": opts.password is not None,
        "--password-stdin": opts.password_stdin,
        "--client-secret": opts.client_secret is not None,
        "--client-secret-stdin": opts.client_secret_stdin,
    }
    return [flag for flag in flags if present[flag]]


def _refuse_user_flags(opts: ConfigureOptions) -> None:
    given = _given(opts, "--username", "--password", "--password-stdin")
    if given:
        raise UsageError(
            f"{', '.join(given)}: the client credentials grant has no user; "
            "use --grant-type password to authenticate as a user"
        )


def _read_given_secrets(opts: ConfigureOptions, deps: Deps, interactive: bool) -> _Given:
    given = _Given()
    for flag, value in (("--client-secret", opts.client_secret), ("--password", opts.password)):
        if value is not None:
            deps.io.warn(
                f"{flag} puts the secret in the process list and your shell history; "
                f"prefer {flag}-stdin or the environment variable"
            )
    if opts.client_secret is not None:
        given.client_secret = _secret(opts.client_secret, "--client-secret", "client secret")
    if opts.password is not None:
        given.password = _secret(opts.password, "--password", "password")

    wanted = [
        flag
        for flag, on in (
            ("--client-secret-stdin", opts.client_secret_stdin),
            ("--password-stdin", opts.password_stdin),
        )
        if on
    ]
    if not wanted:
        return given
    if deps.io.stdin_is_tty and interactive:
        # A person is typing: ask with hidden input instead of reading an echoed line.
        if opts.client_secret_stdin:
            given.client_secret = _secret(
                deps.prompter.secret("Client secret"), "--client-secret-stdin", "client secret"
            )
        if opts.password_stdin:
            given.password = _secret(
                deps.prompter.secret("Password"), "--password-stdin", "password"
            )
        return given
    lines = deps.io.stdin.read().splitlines()
    if len(lines) != len(wanted) or not all(lines):
        if len(wanted) == 1:
            raise UsageError(
                f"{wanted[0]}: standard input must hold exactly one line, the secret "
                f"({'it was empty' if not any(lines) else f'it has {len(lines)} lines'})"
            )
        raise UsageError(
            "--client-secret-stdin --password-stdin: standard input must hold two lines, "
            "the client secret and then the password"
        )
    values = dict(zip(wanted, lines, strict=True))
    if "--client-secret-stdin" in values:
        given.client_secret = _secret(
            values["--client-secret-stdin"], "--client-secret-stdin", "client secret"
        )
    if "--password-stdin" in values:
        given.password = _secret(values["--password-stdin"], "--password-stdin", "password")
    return given


def _secret(value: str, flag: str, what: str) -> str:
    try:
        return validate.secret_value(value, what)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _from_flags(
    opts: ConfigureOptions, targets: dict[str, Target], deps: Deps, given: _Given
) -> Plan:
    missing: list[str] = []
    if opts.name is None:
        raise UsageError(
            "missing the target NAME (not running interactively): "
            "astra-auth configure NAME --grant-type … --token-url … --client-id … --no-input",
        )
    existing = targets.get(opts.name)
    old = existing.oauth2 if existing else None
    grant = opts.grant_type or (old.grant_type if old else None)
    token_url = opts.token_url or (old.token_url if old else None)
    client_id = opts.client_id or (old.client_id if old else None)
    metadata = None
    if opts.issuer is not None:
        metadata = deps.discover(opts.issuer)
        token_url = metadata.token_endpoint
        deps.io.info(f"Access Token URL from {metadata.source}: {token_url}")
    if grant is None:
        missing.append("--grant-type")
    if token_url is None:
        missing.append("--token-url (or --issuer)")
    if client_id is None:
        missing.append("--client-id")
    username = opts.username or (old.username if old and grant == "password" else None)
    if grant == "password" and username is None:
        missing.append("--username")
    if grant != "password":
        _refuse_user_flags(opts)
    mode = opts.secrets or (old.secrets if old else "keyring")
    changes: dict[str, str | None] = {}
    states: dict[str, str] = {}
    kinds = ["client_secret"] + (["password"] if grant == "password" else [])
    for kind in kinds:
        key = entry(opts.name, kind)
        env_name = CLIENT_SECRET_ENV if kind == "client_secret" else PASSWORD_ENV
        value = given.client_secret if kind == "client_secret" else given.password
        if mode == "env":
            states[kind] = "env"
            if not deps.environ.get(env_name):
                deps.io.warn(f"{env_name} is not set here; set it wherever astra-auth runs")
            continue
        if value is None and deps.environ.get(env_name):
            value = _secret(deps.environ[env_name], env_name, kind.replace("_", " "))
        if value is not None:
            changes[key] = value
            states[kind] = "new"
        elif existing is None:
            # A new target has no stored secret to keep: report the flag without
            # asking the keyring, which may not even be usable here.
            missing.append(SECRET_FLAG if kind == "client_secret" else PASSWORD_FLAG)
        else:
            try:
                stored = deps.secrets.get(key) is not None
            except KeyringUnavailable:
                if missing:
                    continue  # the usage error about the other values comes first
                raise
            if stored:
                states[kind] = "stored"
            else:
                missing.append(SECRET_FLAG if kind == "client_secret" else PASSWORD_FLAG)
    if missing:
        raise UsageError(
            "missing required values (not running interactively, so nothing is asked): "
            + ", ".join(missing)
        )
    assert grant and token_url and client_id  # for the type checker: checked above
    if metadata is None and (old is None or opts.token_url is not None):
        metadata = _metadata(token_url, deps)
    _warn_about_grant(metadata, grant, deps)
    settings = OAuth2(
        grant_type=grant,
        token_url=token_url,
        client_id=client_id,
        client_auth=opts.client_auth or (old.client_auth if old else None)
        or _metadata_client_auth(metadata, deps) or "basic",
        scope=_keep_or_replace(opts.scope, old.scope if old else None),
        audience=_keep_or_replace(opts.audience, old.audience if old else None),
        username=username if grant == "password" else None,
        secrets=mode,
    )
    _warn_about_url(settings.token_url, deps)
    target = Target(
        name=opts.name,
        url=opts.url or (existing.url if existing else None),
        auth_type="oauth2",
        oauth2=settings,
    )
    return Plan(
        target=target,
        is_new=existing is None,
        secret_changes=changes,
        cleanup=_stale(opts.name, grant, mode),
        secret_states=states,
    )


def _metadata(token_url: str, deps: Deps) -> Any:
    """The provider's metadata when it names this very token endpoint, else None."""
    metadata = deps.metadata_for(token_url)
    if metadata is None:
        return None
    if metadata.token_endpoint.rstrip("/") != token_url.rstrip("/"):
        deps.io.warn(f"the provider's discovery document ({metadata.source}) names another "
                     f"token endpoint, {metadata.token_endpoint}; check the Access Token URL")
        return None
    return metadata


def _warn_about_grant(metadata: Any, grant: str, deps: Deps) -> None:
    warning = metadata.grant_warning(grant) if metadata is not None else None
    if warning:
        deps.io.warn(warning)


def _metadata_client_auth(metadata: Any, deps: Deps) -> str | None:
    if metadata is None:
        return None
    method = metadata.client_auth()
    if method:
        deps.io.info(f"Client authentication {method!r}, from the provider's "
                     "token_endpoint_auth_methods_supported.")
    return method


def _keep_or_replace(new: str | None, old: str | None) -> str | None:
    """A flag replaces the stored value; `--scope ""` clears it."""
    if new is None:
        return old
    return new or None


def _stale(name: str, grant: str, mode: str) -> list[str]:
    """Keyring entries the new settings no longer use.

    A secret that is no longer used must not linger in the keyring; a cached
    token was made with the old settings, so it goes too.
    """
    stale = [entry(name, "token")]
    if mode == "env":
        stale += [entry(name, "client_secret"), entry(name, "password")]
    elif grant != "password":
        stale.append(entry(name, "password"))
    return stale


def _warn_about_url(url: str, deps: Deps) -> None:
    warning = deps.address_warning(url)
    if warning:
        deps.io.warn(warning)


# ---------------------------------------------------------------------------
# The interactive walk-through


def _walkthrough(
    opts: ConfigureOptions, targets: dict[str, Target], deps: Deps, given: _Given
) -> Plan:
    p = deps.prompter

    # 1. Target
    name = opts.name
    if name is None and targets:
        names = sorted(targets)
        labels = [Choice(n, targets[n].url or "") for n in names]
        index = p.select("Target", labels + [Choice("Create a new target")], default=0)
        name = names[index] if index < len(names) else None
    if name is None:
        name = _ask_valid(deps, "Target name (e.g. payments-api)", None, validate.target_name)
    existing = targets.get(name)
    old = existing.oauth2 if existing else None
    url = opts.url or (existing.url if existing else None)
    if existing is None and opts.url is None:
        url = _ask_valid(
            deps, "API URL (the API under test; Enter to skip)", None, validate.api_url,
            optional=True,
        )

    # 2. Authentication type
    if opts.auth_type is None:
        p.select("Authentication type", [c for _, c in AUTH_CHOICES], default=0)

    # 3. Grant type
    grant = opts.grant_type
    if grant is None:
        keys = [k for k, _ in GRANT_CHOICES]
        current = keys.index(old.grant_type) if old else 0
        grant = keys[p.select("Grant type", [c for _, c in GRANT_CHOICES], default=current)]

    # 4. Access Token URL, typed or read from the issuer's discovery document
    token_url = opts.token_url
    metadata = None
    if opts.issuer is not None:
        metadata = deps.discover(opts.issuer)
        token_url = metadata.token_endpoint
        deps.io.info(f"Access Token URL from {metadata.source}: {token_url}")
    if token_url is None and old is None:
        metadata = _ask_issuer(deps)
        if metadata is not None:
            token_url = metadata.token_endpoint
    if token_url is None:
        token_url = _ask_valid(
            deps, "Access Token URL", old.token_url if old else None, validate.token_url
        )
    _warn_about_url(token_url, deps)
    if metadata is None and (old is None or token_url != old.token_url):
        metadata = _metadata(token_url, deps)
    _warn_about_grant(metadata, grant, deps)

    # 5. Client ID
    client_id = opts.client_id or _ask_valid(
        deps, "Client ID", old.client_id if old else None,
        lambda v: validate.plain_value(v, "client ID", validate.MAX_CLIENT_ID),
    )

    mode = opts.secrets or (old.secrets if old else "keyring")
    changes: dict[str, str | None] = {}
    states: dict[str, str] = {}

    # 6. Client Secret
    _ask_secret(deps, name, "client_secret", "Client secret", given.client_secret, mode,
                changes, states)

    # 7. Username and Password, for the password grant only
    username = None
    if grant == "password":
        username = opts.username or _ask_valid(
            deps, "Username", old.username if old else None,
            lambda v: validate.plain_value(v, "username", validate.MAX_USERNAME),
        )
        _ask_secret(deps, name, "password", "Password", given.password, mode, changes, states)

    # 8. Optional settings
    scope = opts.scope if opts.scope is not None else _ask_optional(
        deps, "Scope (optional, space-separated)", old.scope if old else None,
        lambda v: validate.plain_value(v, "scope", validate.MAX_SCOPE),
    )
    audience = opts.audience if opts.audience is not None else _ask_optional(
        deps, "Audience (optional, sent as `audience`)", old.audience if old else None,
        lambda v: validate.plain_value(v, "audience", validate.MAX_URL),
    )
    client_auth = opts.client_auth
    if client_auth is None:
        keys = [k for k, _ in CLIENT_AUTH_CHOICES]
        suggested = metadata.client_auth() if metadata is not None else None
        current = keys.index(old.client_auth) if old else keys.index(suggested or "basic")
        client_auth = keys[
            p.select("Client authentication", [c for _, c in CLIENT_AUTH_CHOICES], current)
        ]

    settings = OAuth2(
        grant_type=grant,
        token_url=token_url,
        client_id=client_id,
        client_auth=client_auth,
        scope=scope or None,
        audience=audience or None,
        username=username,
        secrets=mode,
    )
    return Plan(
        target=Target(name=name, url=url, auth_type="oauth2", oauth2=settings),
        is_new=existing is None,
        secret_changes=changes,
        cleanup=_stale(name, grant, mode),
        secret_states=states,
    )


def _ask_issuer(deps: Deps) -> Any:
    """Offer discovery; the metadata when the user took it, else None."""
    from astra_auth.oauth.discovery import DiscoveryError

    choice = deps.prompter.select("Access Token URL", [
        Choice("I have the Access Token URL"),
        Choice("I only know my issuer URL",
               "read the token endpoint from the provider's discovery document"),
    ], default=0)
    if choice == 0:
        return None
    while True:
        issuer = _ask_valid(deps, "Issuer URL (e.g. https://idp.example.com/realms/main)",
                            None, validate.token_url)
        try:
            metadata = deps.discover(issuer)
        except DiscoveryError as exc:
            deps.io.warn(exc.message)
            if deps.prompter.confirm("Try another issuer URL?", default=True):
                continue
            return None
        deps.io.info(f"The discovery document {metadata.source} names the token endpoint "
                     f"{metadata.token_endpoint}")
        if deps.prompter.confirm("Use it as the Access Token URL?", default=True):
            return metadata
        return None


def _ask_valid(
    deps: Deps,
    message: str,
    default: str | None,
    check: Callable[[str], str],
    *,
    optional: bool = False,
) -> str:
    """Ask until the answer passes `check`, saying why each refused one failed."""
    while True:
        answer = deps.prompter.text(message, default=default)
        if optional and not answer.strip():
            return ""
        try:
            return check(answer)
        except ValueError as exc:
            deps.io.warn(f"{exc}. Try again.")


def _ask_optional(
    deps: Deps, message: str, current: str | None, check: Callable[[str], str]
) -> str:
    if current:
        message += " — Enter keeps it, '-' removes it"
    answer = _ask_valid(deps, message, current, lambda v: v if v.strip() == "-" else check(v),
                        optional=True)
    return "" if answer.strip() == "-" else answer


def _ask_secret(
    deps: Deps,
    name: str,
    kind: str,
    label: str,
    given: str | None,
    mode: str,
    changes: dict[str, str | None],
    states: dict[str, str],
) -> None:
    key = entry(name, kind)
    env_name = CLIENT_SECRET_ENV if kind == "client_secret" else PASSWORD_ENV
    if mode == "env":
        deps.io.info(f"{label}: not stored; read from {env_name} when astra-auth runs.")
        states[kind] = "env"
        return
    if given is not None:
        changes[key] = given
        states[kind] = "new"
        return
    # Reading the keyring here also proves it is usable before anything is saved.
    stored = deps.secrets.get(key) is not None
    message = f"{label} (hidden; Enter keeps the stored one)" if stored else f"{label} (hidden)"
    while True:
        answer = deps.prompter.secret(message)
        if not answer and stored:
            states[kind] = "stored"
            return
        try:
            changes[key] = validate.secret_value(answer, label.lower())
        except ValueError as exc:
            deps.io.warn(f"{exc}. Try again.")
            continue
        states[kind] = "new"
        return


def _show_summary(plan: Plan, deps: Deps) -> None:
    from rich.table import Table
    from rich.text import Text

    target = plan.target
    o = target.oauth2
    assert o is not None
    secret_text = {
        "new": "•••••••• (new, to the OS keyring)",
        "stored": "•••••••• (stored, unchanged)",
        "env": "read from the environment at run time",
    }
    grant_label = dict((k, c.label) for k, c in GRANT_CHOICES)[o.grant_type]
    rows = [
        ("Target", target.name + (" (new)" if plan.is_new else "")),
        ("API URL", target.url or "—"),
        ("Authentication", "OAuth 2.0"),
        ("Grant type", grant_label),
        ("Access Token URL", o.token_url),
        ("Client ID", o.client_id),
        ("Client secret", secret_text[plan.secret_states["client_secret"]]),
    ]
    if o.grant_type == "password":
        rows += [
            ("Username", o.username or ""),
            ("Password", secret_text[plan.secret_states["password"]]),
        ]
    rows += [
        ("Scope", o.scope or "—"),
        ("Audience", o.audience or "—"),
        ("Client authentication", o.client_auth),
    ]
    table = Table(title="Summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, Text(value))
    deps.io.out.print(table)


def _is_password(target: Target) -> bool:
    return bool(target.oauth2 and target.oauth2.grant_type == "password")


# ---------------------------------------------------------------------------
# Saving


def save(plan: Plan, deps: Deps) -> None:
    """Apply the plan: keyring first, then the config file; all or nothing."""
    undo: list[tuple[str, str | None]] = []
    try:
        for key, value in plan.secret_changes.items():
            previous = deps.secrets.get(key)
            if value is None:
                if previous is None:
                    continue
                deps.secrets.delete(key)
            else:
                deps.secrets.set(key, value)
            undo.append((key, previous))
        with deps.config.edit() as config:
            config.targets[plan.target.name] = replace(plan.target)
    except BaseException:
        _undo(undo, deps)
        raise
    remove_entries(deps.secrets, plan.cleanup, strict=False)
    from astra_auth.token_state import write_state

    write_state(deps.config_path, plan.target.name, None)


def _undo(undo: list[tuple[str, str | None]], deps: Deps) -> None:
    for key, previous in reversed(undo):
        try:
            if previous is None:
                deps.secrets.delete(key)
            else:
                deps.secrets.set(key, previous)
        except AstraError:
            deps.io.warn(f"could not restore keyring entry {key!r}; check it by hand")
