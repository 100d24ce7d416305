"""The oauth2 auth type as `configure` sees it: its walk-through steps, how its
flags fill the answers, the secrets it needs, its settings and summary rows.

A new grant or client-authentication method is a row in its choice table,
plus a step where it asks for something new and its keyring kind in
`secret_kinds` where it needs another secret.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from astra_auth.commands.configure import provider
from astra_auth.commands.configure.answers import Answers, AuthType, Secret, Session, Step
from astra_auth.commands.configure.ask import (
    ask_choice,
    ask_optional,
    ask_secret,
    ask_valid,
    old_settings,
)
from astra_auth.commands.configure.options import refuse_user_flags
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.storage.config import OAuth2, Target
from astra_auth.storage.secretstore import entry
from astra_auth.ui.prompter import Choice

# Each explained in one line that fits an 80-column terminal (tests/test_walkthrough.py).
GRANT_CHOICES = [
    ("client_credentials", Choice(
        validate.GRANT_LABELS["client_credentials"],
        "no user context: the application acts for itself",
    )),
    ("password", Choice(
        validate.GRANT_LABELS["password"],
        "one user, whose password astra-auth keeps",
    )),
    ("device_code", Choice(
        validate.GRANT_LABELS["device_code"],
        "one user logs in once, in any browser; MFA works",
    )),
    ("authorization_code", Choice(
        validate.GRANT_LABELS["authorization_code"],
        "one user logs in once, in this machine's browser",
    )),
]
# Said below the grants: what sets the login grants apart.
GRANT_NOTE = "Device Code and Authorization Code keep only a refresh token, not a password."
# Said once when the password grant is chosen (RFC 9700 §2.4: MUST NOT be used).
PASSWORD_NOTE = ("Where the provider allows it, Device Code is the safer choice: the user "
                 "logs in at the provider (MFA included) and astra-auth never holds the "
                 "password, only a refresh token.")
# Each login grant's endpoint: the Answers/OAuth2 field, its flag, its prompt,
# and the discovery metadata field it comes from.
LOGIN_URLS = {
    "device_code": ("device_authorization_url", "--device-authorization-url",
                    "Device Authorization URL", "device_authorization_endpoint"),
    "authorization_code": ("authorization_url", "--authorization-url",
                           "Authorization URL", "authorization_endpoint"),
}
CLIENT_AUTH_CHOICES = [
    ("basic", Choice("basic", "the secret in an HTTP Basic header; most providers")),
    ("post", Choice("post", "client_id and client_secret in the form body")),
    ("private_key_jwt", Choice("private_key_jwt", "a JWT signed with the client's private key "
                                                  "(RFC 7523)")),
    ("tls_client_auth", Choice("tls_client_auth", "a client certificate: mutual TLS (RFC 8705)")),
    ("none", Choice("none", "a public client: client_id only, no secret")),
]
# How the token URL is found: typed, or read through discovery.
TOKEN_URL_CHOICES = [
    Choice("I have the Access Token URL"),
    Choice("I only know my issuer URL", "read it from the provider's discovery document"),
]


def _old(s: Session) -> OAuth2 | None:
    """The oauth2 settings a question offers as its default (`old_settings`)."""
    settings: OAuth2 | None = old_settings(s, "oauth2")
    return settings


def secret_kinds(answers: Answers) -> list[str]:
    """A client secret (basic, post), a private key (private_key_jwt,
    tls_client_auth) or nothing (none); the password grant's password."""
    o = answers.oauth2
    return OAuth2(grant_type=o.grant_type or "", token_url="", client_id="",
                  client_auth=o.client_auth or "basic",
                  certificate_bound=o.certificate_bound, dpop=o.dpop).secret_kinds


# ---------------------------------------------------------------------------
# The walk-through's steps, in the order they are asked


def ask_grant(s: Session) -> None:
    o, old = s.answers.oauth2, _old(s)
    if s.opts.grant_type is not None:
        o.grant_type = s.opts.grant_type
        return
    o.grant_type = ask_choice(s.deps, "Grant type", GRANT_CHOICES,
                              old.grant_type if old else None, note=GRANT_NOTE)
    if o.grant_type == "password":
        s.deps.io.info(PASSWORD_NOTE)


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
    choice = deps.prompter.select("Access Token URL", TOKEN_URL_CHOICES, default=0)
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


def ask_device_authorization_url(s: Session) -> None:
    _ask_login_url(s, "device_code")


def ask_authorization_url(s: Session) -> None:
    # Named after the setting, as every step is: the edit menu finds a row's
    # step by its name (walkthrough._step_for).
    _ask_login_url(s, "authorization_code")


def _ask_login_url(s: Session, grant: str) -> None:
    """The login grant's own endpoint: a flag, else discovery, else asked."""
    o, old = s.answers.oauth2, _old(s)
    if o.grant_type != grant:
        return
    attr, flag, label, meta_key = LOGIN_URLS[o.grant_type]
    value = getattr(s.opts, attr)
    if value is None:
        found = getattr(s.metadata, meta_key, None) if s.metadata is not None else None
        current = getattr(old, attr, None) if old else None
        if found and found != current:
            s.deps.io.info(f"{label} from the provider's discovery document: {found}")
        value = ask_valid(s.deps, label, found or current, validate.token_url)
    setattr(o, attr, value)


def ask_client_id(s: Session) -> None:
    old = _old(s)
    s.answers.oauth2.client_id = s.opts.client_id or ask_valid(
        s.deps, "Client ID", old.client_id if old else None,
        lambda v: validate.plain_value(v, "client ID", validate.MAX_CLIENT_ID),
    )


def ask_client_secret(s: Session) -> None:
    """Step 6, after the method: a client secret, a key file, or nothing."""
    o, old = s.answers.oauth2, _old(s)
    # Certificate-bound tokens are a flag's choice (--certificate-bound), kept on re-runs.
    o.certificate_bound = (s.opts.certificate_bound if s.opts.certificate_bound is not None
                           else bool(old and old.certificate_bound))
    if o.client_auth in validate.KEY_CLIENT_AUTH:
        _ask_key(s)
        return
    if o.client_auth != "none":
        ask_secret(s, "client_secret")
    if o.certificate_bound:
        _ask_key(s)  # the certificate and its key, presented for the binding


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
    """Step 6: the methods the provider's metadata lists (all, when it lists
    none), the one it prefers (or the current one) preselected."""
    o, old = s.answers.oauth2, _old(s)
    if s.opts.client_auth is not None:
        o.client_auth = s.opts.client_auth
    else:
        offered = provider.offered_client_auth(s)
        choices = [(k, c) for k, c in CLIENT_AUTH_CHOICES if k in offered]
        offered_keys = [k for k, _ in choices]
        preferred = (old.client_auth if old and old.client_auth in offered_keys
                     else provider.suggested_client_auth(s))
        o.client_auth = ask_choice(s.deps, "Client authentication", choices, preferred)
    provider.use_mtls_alias(s)


def _ask_key(s: Session) -> None:
    """private_key_jwt and tls_client_auth: the key file (read once into the
    keyring), the certificate's path, and for private_key_jwt the algorithm.
    A key that does not fit is said, and asked for again."""
    from astra_auth.commands.configure.keys import settled_problem, unfit
    from astra_auth.oauth.client_auth import provider_defaults

    o, old, deps = s.answers.oauth2, _old(s), s.deps
    _ask_private_key(s)
    needs_cert = o.client_auth == "tls_client_auth" or o.certificate_bound
    defaults = provider_defaults(o.token_url or "")
    label = ("Certificate file (PEM, the public half of the key)" if needs_cert else
             "Certificate file (optional; sends its x5t#S256 instead of a kid"
             + (f"; {defaults.name} wants one" if defaults.wants_certificate else "") + ")")
    current = s.opts.certificate or (old.certificate if old else None)
    if s.opts.certificate is not None:
        o.certificate = s.opts.certificate
    elif needs_cert:
        o.certificate = ask_valid(deps, label, current, _certificate)
    else:
        o.certificate = ask_optional(deps, label, current, _certificate) or None
    if o.client_auth != "private_key_jwt":
        return
    algs = list(validate.ASSERTION_ALGORITHMS)
    while True:
        preferred = s.opts.assertion_alg or o.assertion_alg or (
            old.assertion_alg if old else None) or defaults.alg
        o.assertion_alg = s.opts.assertion_alg or algs[deps.prompter.select(
            "Assertion algorithm", [Choice(a) for a in algs], algs.index(preferred))]
        problem = settled_problem(s, "private_key")
        if problem is None:
            break
        if s.given.get("private_key") is not None:
            raise unfit(s, "private_key", problem)
        deps.io.warn(f"{problem} Give a key that fits"
                     + ("." if s.opts.assertion_alg else ", or choose another algorithm."))
        _ask_private_key(s, again=True)
    kid = s.opts.assertion_kid if s.opts.assertion_kid is not None else (
        old.assertion_kid if old else None)
    o.assertion_kid = kid or None


def _ask_private_key(s: Session, again: bool = False) -> None:
    """The private key: from the environment at run time, given with the flags,
    or read from a PEM file typed here (Enter keeps the stored one).  A file
    that holds no readable private key is said, and asked for again."""
    from astra_auth.commands.configure.keys import problem
    from astra_auth.commands.configure.options import read_key_file
    from astra_auth.core.errors import UsageError

    deps = s.deps
    if s.answers.secrets_mode == "env" or s.given.get("private_key") is not None:
        ask_secret(s, "private_key")
        return
    stored = not again and deps.secrets.get(entry(s.answers.name, "private_key")) is not None
    while True:
        path = deps.prompter.text(
            "Private key file (PEM; read once into the keyring"
            + ("; Enter keeps the stored one)" if stored else ")"), default=None)
        if not path.strip() and stored:
            s.answers.secrets["private_key"] = Secret("stored")
            return
        try:
            pem = read_key_file(Path(path.strip()).expanduser(), "Private key file",
                                deps.io.warn)
        except UsageError as exc:
            deps.io.warn(f"{exc.message}. Try again.")
            continue
        unreadable = problem(s.answers, "private_key", pem, check_alg=False)
        if unreadable is not None:
            deps.io.warn(f"{unreadable} Try again.")
            continue
        s.answers.secrets["private_key"] = Secret("new", pem)
        return


def _certificate(value: str) -> str:
    from astra_auth.commands.configure.options import _certificate_path

    return _certificate_path(value)


def ask_extra_params(s: Session) -> None:
    """Step 8's last question: extra token parameters (`resource`, vendor ones)."""
    from astra_auth.commands.configure.options import parse_params
    from astra_auth.core.errors import UsageError

    o, old = s.answers.oauth2, _old(s)
    if s.opts.params or s.opts.from_postman is not None:
        # An imported Postman collection lists every parameter it sends.
        o.extra_params = parse_params(s.opts.params)
        return
    current = " ".join(f"{k}={v}" for k, v in (old.extra_params if old else {}).items())

    def check(value: str) -> str:
        try:
            parse_params(tuple(value.split()))
        except UsageError as exc:
            raise ValueError(exc.message.removeprefix("--param: ")) from None
        return value

    # One line at 80 columns: the example shows the NAME=VALUE form.
    answer = ask_optional(s.deps, "Extra token parameters (optional, e.g. "
                          "resource=https://api.example.com)", current or None, check)
    o.extra_params = parse_params(tuple(answer.split()))


def ask_dpop(s: Session) -> None:
    """DPoP (RFC 9449): a flag's choice (--dpop, --no-dpop); otherwise asked only
    where the provider's metadata offers it or the target has it already."""
    o, old, deps = s.answers.oauth2, _old(s), s.deps
    offered = _dpop_offered(s)
    if s.opts.dpop is not None:
        o.dpop = s.opts.dpop
    elif offered or (old is not None and old.dpop):
        o.dpop = deps.prompter.confirm(
            "Bind tokens to a key kept here with DPoP (RFC 9449)? Every token request and "
            "API request then carries a proof of it", default=bool(old.dpop if old else offered))
    else:
        o.dpop = False
    _settle_dpop(s)


def _dpop_offered(s: Session) -> list[str] | None:
    """The proof algorithms the provider's metadata lists, where it lists any."""
    return getattr(s.metadata, "dpop_signing_alg_values_supported", None) or None


def _settle_dpop(s: Session) -> None:
    """The proof key: the stored one where it fits the algorithm, else a new
    one made here (providers bind tokens to whichever key proves them:
    nothing is registered, RFC 9449 §6)."""
    o, old, answers, deps = s.answers.oauth2, _old(s), s.answers, s.deps
    answers.secrets.pop("dpop_key", None)
    if not o.dpop:
        o.dpop_alg = None
        return
    offered = _dpop_offered(s)
    current = s.opts.dpop_alg or (old.dpop_alg if old and old.dpop else None)
    if current is None and offered and validate.DPOP_ALGORITHMS[0] not in offered:
        current = next((a for a in validate.DPOP_ALGORITHMS if a in offered), None)
    o.dpop_alg = current if current != validate.DPOP_ALGORITHMS[0] else None
    algorithm = o.dpop_alg or validate.DPOP_ALGORITHMS[0]
    if offered and algorithm not in offered:
        deps.io.warn(f"the provider's metadata lists DPoP algorithms {', '.join(offered)}, not "
                     f"{algorithm}: choose one of them with --dpop-alg")
    if answers.secrets_mode == "env":
        answers.secrets["dpop_key"] = Secret("env")
        return
    from astra_auth.signing.dpop import DpopKey, generate_key
    from astra_auth.signing.message import SigningError

    stored = deps.secrets.get(entry(answers.name, "dpop_key"))
    if stored is not None:
        try:
            DpopKey(stored, algorithm)
            answers.secrets["dpop_key"] = Secret("stored")
            return
        except SigningError:
            pass  # another algorithm's key, or unreadable: a new one replaces it
    answers.secrets["dpop_key"] = Secret("new", generate_key(algorithm))
    deps.io.info(f"A new DPoP key ({algorithm}) will be kept in the OS keyring; nothing needs "
                 "registering: the provider binds each token to the key that proves it.")


STEPS: tuple[Step, ...] = (ask_grant, ask_token_url, ask_device_authorization_url,
                           ask_authorization_url, ask_client_id, ask_client_auth,
                           ask_client_secret, ask_user, ask_scope, ask_audience,
                           ask_extra_params, ask_dpop)


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
        if opts.client_auth is None and old is None:
            # Before the secrets are settled: the method decides which one is needed.
            o.client_auth = provider.client_auth_from_metadata(s)
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
        refuse_user_flags(opts, o.grant_type)
    o.client_auth = opts.client_auth or o.client_auth or (old.client_auth if old else None)
    # `--scope ""` clears the value ("" is saved as none).
    o.scope = opts.scope if opts.scope is not None else (old.scope if old else None)
    o.audience = opts.audience if opts.audience is not None else (old.audience if old else None)
    for grant, (attr, flag, _, _) in LOGIN_URLS.items():
        if o.grant_type != grant:
            if getattr(opts, attr) is not None:
                raise UsageError(f"{flag}: only the {grant} grant has one")
            continue
        value = getattr(opts, attr) or (getattr(old, attr) if old else None)
        if value is None and s.metadata is not None:  # --issuer
            value = getattr(s.metadata, LOGIN_URLS[grant][3])
        setattr(o, attr, value)
    _enterprise_from_flags(s)
    o.dpop = opts.dpop if opts.dpop is not None else bool(old and old.dpop)
    if opts.dpop_alg is not None and not o.dpop:
        raise UsageError("--dpop-alg: this target does not use DPoP; add --dpop")
    _settle_dpop(s)


def _enterprise_from_flags(s: Session) -> None:
    """The key methods' settings and the extra parameters."""
    from astra_auth.commands.configure.options import parse_params
    from astra_auth.core.errors import UsageError

    opts, o, old = s.opts, s.answers.oauth2, _old(s)
    o.extra_params = parse_params(opts.params) if opts.params else (
        dict(old.extra_params) if old else {})
    method = o.client_auth
    keyed = method in validate.KEY_CLIENT_AUTH
    kept = old is not None and old.client_auth == method
    o.certificate = opts.certificate or (old.certificate if kept and old else None)
    o.assertion_alg = opts.assertion_alg or (old.assertion_alg if kept and old else None)
    audience = opts.assertion_audience if opts.assertion_audience is not None else (
        old.assertion_audience if kept and old else None)
    o.assertion_audience = audience or None
    kid = opts.assertion_kid if opts.assertion_kid is not None else (
        old.assertion_kid if kept and old else None)
    o.assertion_kid = kid or None
    o.certificate_bound = opts.certificate_bound if opts.certificate_bound is not None else (
        old.certificate_bound if old else False)
    wrong = []
    if method is not None and not keyed and not o.certificate_bound:
        wrong += [f for f, v in (("--private-key-file", opts.private_key_file),
                                 ("--private-key-stdin", opts.private_key_stdin),
                                 ("--certificate", opts.certificate)) if v]
    if method is not None and method != "private_key_jwt":
        wrong += [f for f, v in (("--assertion-alg", opts.assertion_alg),
                                 ("--assertion-audience", opts.assertion_audience)) if v]
        wrong += ["--assertion-kid"] if opts.assertion_kid is not None else []
    if method is not None and method not in ("basic", "post"):
        wrong += [f for f, v in (("--client-secret", opts.client_secret),
                                 ("--client-secret-stdin", opts.client_secret_stdin)) if v]
    if wrong:
        raise UsageError(f"{', '.join(wrong)}: not a setting of client authentication "
                         f"{method}; leave {'it' if len(wrong) == 1 else 'them'} out, or "
                         "choose the method it belongs to with --client-auth")
    if method == "tls_client_auth" and not o.certificate:
        s.missing.append("--certificate PATH")
    if o.certificate_bound and not o.certificate:
        s.missing.append("--certificate PATH (--certificate-bound presents it to the API)")


def from_provider(s: Session) -> None:
    o, old = s.answers.oauth2, _old(s)
    assert o.grant_type and o.token_url  # checked by from_flags
    provider.learn(s, o.token_url, o.grant_type,
                   changed=old is None or s.opts.token_url is not None)
    if o.client_auth is None:
        preferred = provider.suggested_client_auth(s)
        if preferred in (None, "basic", "post"):
            o.client_auth = provider.client_auth_from_metadata(s) or "basic"
        else:
            # The secrets were settled for a client secret (no --client-auth was
            # given); a key or a public client is the user's choice to make.
            o.client_auth = "basic"
            s.deps.io.warn(f"the provider's metadata lists no client-secret method, only "
                           f"{', '.join(s.metadata.client_auth_methods())}; if this client "
                           f"uses one of them, say so with --client-auth {preferred}")
    provider.use_mtls_alias(s)
    provider.warn_about_url(s, o.token_url)
    if o.grant_type in LOGIN_URLS:
        attr, flag, label, meta_key = LOGIN_URLS[o.grant_type]
        if getattr(o, attr) is None:
            found = getattr(s.metadata, meta_key, None) if s.metadata is not None else None
            if found is None:
                raise UsageError(f"{flag} is required for the {o.grant_type} grant: the "
                                 "provider's discovery document does not name its "
                                 f"{meta_key}")
            s.deps.io.info(f"{label} from the provider's discovery document: {found}")
            setattr(o, attr, found)


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
        extra_params=dict(o.extra_params or {}),
        assertion_alg=o.assertion_alg if o.client_auth == "private_key_jwt" else None,
        assertion_audience=(o.assertion_audience or None
                            if o.client_auth == "private_key_jwt" else None),
        assertion_kid=o.assertion_kid or None if o.client_auth == "private_key_jwt" else None,
        certificate=o.certificate if o.client_auth in validate.KEY_CLIENT_AUTH
        or o.certificate_bound else None,
        certificate_bound=o.certificate_bound,
        authorization_url=(o.authorization_url if o.grant_type == "authorization_code"
                           else None),
        device_authorization_url=(o.device_authorization_url if o.grant_type == "device_code"
                                  else None),
        dpop=o.dpop,
        dpop_alg=o.dpop_alg if o.dpop else None,
    )}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    o = target.oauth2
    assert o is not None
    rows = [
        ("Grant type", dict(GRANT_CHOICES)[o.grant_type].label),
        ("Access Token URL", o.token_url),
    ]
    if o.grant_type in LOGIN_URLS:  # in the order the walk-through asks
        attr, _, label, _ = LOGIN_URLS[o.grant_type]
        rows.append((label, getattr(o, attr) or ""))
    rows += [
        ("Client ID", o.client_id),
        ("Client authentication", o.client_auth),
    ]
    if o.client_auth in ("basic", "post"):
        rows.append(("Client secret", secret("client_secret")))
    if o.client_auth in validate.KEY_CLIENT_AUTH or o.certificate_bound:
        rows.append(("Private key", secret("private_key")))
        rows.append(("Certificate", o.certificate or "—"))
        if o.client_auth == "private_key_jwt":
            from astra_auth.oauth.client_auth import provider_defaults

            defaults = provider_defaults(o.token_url)
            rows.append(("Assertion", f"{o.assertion_alg or defaults.alg}, aud "
                                      f"{o.assertion_audience or defaults.audience or o.token_url}"
                                      + (f", kid {o.assertion_kid}" if o.assertion_kid else "")))
    if o.grant_type == "password":
        rows += [("Username", o.username or ""), ("Password", secret("password"))]
    rows += [
        ("Scope", o.scope or "—"),
        ("Audience", o.audience or "—"),
    ]
    if o.extra_params:
        rows.append(("Extra parameters", " ".join(f"{k}={v}" for k, v in
                                                  o.extra_params.items())))
    if o.certificate_bound:
        rows.append(("Certificate-bound tokens", "yes: the certificate goes to the API too"))
    if o.dpop:
        rows.append(("DPoP", f"yes: {o.dpop_algorithm}, proof key {secret('dpop_key')}"))
    return rows


TYPE = AuthType(
    flags=("--grant-type", "--token-url", "--issuer", "--client-id", "--client-secret",
           "--client-secret-stdin", "--client-auth", "--scope", "--audience", "--username",
           "--password", "--password-stdin",
           # private_key_jwt and tls_client_auth
           "--private-key-file", "--private-key-stdin", "--certificate", "--assertion-alg",
           "--assertion-audience", "--assertion-kid", "--param", "--certificate-bound",
           # login grants
           "--authorization-url", "--device-authorization-url",
           # DPoP (RFC 9449)
           "--dpop", "--dpop-alg"),
    key="oauth2",
    choice=Choice(validate.AUTH_LABELS["oauth2"], "tokens from an OAuth 2.0 token endpoint"),
    steps=STEPS,
    from_flags=from_flags,
    from_provider=from_provider,
    secret_kinds=secret_kinds,
    kept_kinds=("client_secret", "password", "private_key", "dpop_key"),
    settings=settings,
    summary=summary,
)
