"""What `configure` learns, whichever way it asks: one `Answers` value.

The walk-through fills it by asking, the CI path from flags, the environment
and the existing target; `plan.build_plan` turns it into the plan.  An auth
type is an `AuthType` record (see `oauth2.py`): its walk-through steps, how
its flags fill the answers, the secrets it needs, its config settings and its
summary rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from astra_auth.core import validate
from astra_auth.storage.config import Target
from astra_auth.ui.prompter import Choice

if TYPE_CHECKING:
    from astra_auth.commands.configure.options import ConfigureOptions, Given
    from astra_auth.deps import Deps


@dataclass(frozen=True)
class SecretSpec:
    """One kind of secret: its keyring kind, its prompt label, and its flags."""

    kind: str  # the keyring kind (`<target>:<kind>`)
    label: str  # the prompt: "Client secret"
    attr: str  # ConfigureOptions' field for `--<attr> VALUE`; `<attr>_stdin` for stdin
    # Whether `--<attr> VALUE` exists (only --client-secret and --password do, with a warning).
    value_flag: bool = False
    # Whether the secret may span lines (a PEM key); it then comes whole from
    # stdin or from `--<attr>-file PATH`.
    multiline: bool = False

    @property
    def what(self) -> str:
        """The secret in messages: "client secret", "API key"."""
        return validate.secret_words(self.kind)

    @property
    def flag(self) -> str:
        return "--" + self.attr.replace("_", "-")

    @property
    def stdin_flag(self) -> str:
        return self.flag + "-stdin"

    @property
    def env(self) -> str:
        """The generic variable; `ASTRA_AUTH_<TARGET>_<KIND>` wins over it."""
        return f"ASTRA_AUTH_{self.kind.upper()}"

    @property
    def missing(self) -> str:
        """How a CI run that lacks it is told to give it."""
        return f"{self.stdin_flag} (or {self.env})"


# Every secret configure can take, in the order of their `--…-stdin` lines.
SECRETS = {
    spec.kind: spec
    for spec in (
        SecretSpec("client_secret", "Client secret", "client_secret", value_flag=True),
        SecretSpec("password", "Password", "password", value_flag=True),
        SecretSpec("bearer_token", "Bearer token", "token"),
        SecretSpec("api_key", "API key", "api_key"),
        SecretSpec("signing_key", "Signing key", "signing_key", multiline=True),
        # private_key_jwt and tls_client_auth
        SecretSpec("private_key", "Private key", "private_key", multiline=True),
        # aws_sigv4, in the order of their standard input lines
        SecretSpec("secret_access_key", "Secret access key", "secret_access_key"),
        SecretSpec("session_token", "Session token", "session_token"),
    )
}


@dataclass
class Secret:
    """How one secret ends up: "new" (`value` goes to the keyring), "stored"
    (the keyring's entry stays) or "env" (read from the environment at run time)."""

    state: str
    value: str | None = field(default=None, repr=False)


@dataclass
class OAuth2Answers:
    """The oauth2 type's settings; None until answered."""

    grant_type: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_auth: str | None = None
    scope: str | None = None  # "" or None: none
    audience: str | None = None
    username: str | None = None  # kept for the password grant only
    # private_key_jwt, tls_client_auth and extra parameters
    extra_params: dict[str, str] = field(default_factory=dict)
    assertion_alg: str | None = None
    assertion_audience: str | None = None  # "" or None: the default
    assertion_kid: str | None = None  # "" or None: the key's thumbprint
    certificate: str | None = None
    certificate_bound: bool = False
    authorization_url: str | None = None  # authorization_code only
    device_authorization_url: str | None = None  # device_code only
    dpop: bool = False
    dpop_alg: str | None = None


@dataclass
class Answers:
    name: str
    existing: Target | None = None
    url: str | None = None
    auth_type: str = "oauth2"
    secrets_mode: str = "keyring"
    # By keyring kind, in the order they were settled (and are saved).
    secrets: dict[str, Secret] = field(default_factory=dict)
    oauth2: OAuth2Answers = field(default_factory=OAuth2Answers)
    # The other types' settings, by config key (`username`, `name`, `algorithm`…).
    fields: dict[str, Any] = field(default_factory=dict)
    # The token URL's host once its private address was warned about (config
    # `private_host_ok`): the warning is given once.
    private_host_ok: str | None = None
    # The target's own CA bundle and timeout (every command's default).
    ca_bundle: str | None = None
    timeout: float | None = None


@dataclass
class Session:
    """One run of `configure`: what it was given, what it learnt on the way,
    and the answers so far.  Walk-through steps and flag readers take it."""

    opts: ConfigureOptions
    deps: Deps
    given: Given
    answers: Answers
    # The provider's discovery metadata, once known (an issuer, or a lookup of
    # the token URL); it supplies defaults and warnings.
    metadata: Any = None
    # Flags a CI run lacks; all are reported at once.
    missing: list[str] = field(default_factory=list)
    # The settings as they stand while the "Which setting?" menu asks one again:
    # its prompt offers these values rather than the saved target's.
    current: Target | None = None


def start(
    opts: ConfigureOptions, deps: Deps, given: Given, name: str, targets: dict[str, Target]
) -> Session:
    """A session for target `name`: what the flags and the existing target settle
    before any question."""
    existing = targets.get(name)
    auth_type = opts.auth_type or (existing.auth_type if existing else None) or "oauth2"
    same_type = existing is not None and existing.auth_type == auth_type
    answers = Answers(
        name=name,
        existing=existing,
        url=opts.url or (existing.url if existing else None),
        auth_type=auth_type,
        secrets_mode=opts.secrets or (existing.secrets_mode if same_type and existing
                                      else "keyring"),
        private_host_ok=existing.private_host_ok if same_type and existing else None,
        ca_bundle=(str(opts.ca_bundle) if opts.ca_bundle is not None
                   else existing.ca_bundle if existing else None),
        timeout=opts.timeout if opts.timeout is not None
        else existing.timeout if existing else None,
    )
    if answers.secrets_mode == "env":
        refuse_given_secrets(opts, name)
    return Session(opts=opts, deps=deps, given=given, answers=answers)


def refuse_given_secrets(opts: ConfigureOptions, name: str) -> None:
    """A target that keeps its secrets in variables stores none: a secret given
    to it would be thrown away, so it is refused with the fix (exit 2)."""
    from astra_auth.commands.configure.options import flags_given
    from astra_auth.core.errors import UsageError

    given = flags_given(opts, *(flag for spec in SECRETS.values() for flag in
                                ((spec.flag,) if spec.value_flag else ()) + (spec.stdin_flag,)))
    if opts.signing_key_file is not None:
        given.append("--signing-key-file")
    if opts.private_key_file is not None:
        given.append("--private-key-file")
    if opts.generate_key:
        given.append("--generate-key")
    if not given:
        return
    from astra_auth.diagnosis.hints import store_command
    from astra_auth.storage.secretstore import env_names

    kinds = [spec.kind for spec in SECRETS.values()
             if set(given) & {spec.flag, spec.stdin_flag}
             or (spec.kind == "signing_key" and {"--signing-key-file", "--generate-key"}
                 & set(given))
             or (spec.kind == "private_key" and "--private-key-file" in given)]
    raise UsageError(
        f"{', '.join(given)}: target {name!r} keeps its secrets in environment variables "
        "(secrets = env), so nothing given here would be stored",
        hints=[*("To store it in the OS keyring instead, add --secrets keyring: "
                 + store_command(name, kind, "--secrets", "keyring") for kind in kinds),
               "Or leave the flag out and set "
               + " and ".join(env_names(name, kind)[0] for kind in kinds)
               + " where astra-auth runs."],
    )


Step = Callable[[Session], None]


@dataclass(frozen=True)
class AuthType:
    """One authentication type, as `configure` sees it.  A new type is one
    module that builds this record, plus its line in `auth_types.AUTH_TYPES`."""

    key: str  # the config's `auth_type`
    choice: Choice  # its line in the walk-through's "Authentication type" list
    # The walk-through's questions after the common ones, in order.
    steps: Sequence[Step]
    # CI: fill the answers from flags and the existing target; add what is
    # missing to `session.missing` (the secrets are settled afterwards).
    from_flags: Step
    # CI, once nothing is missing: what the provider adds (metadata, warnings).
    from_provider: Step
    # The keyring kinds these answers need, in the order they are asked.
    secret_kinds: Callable[[Answers], list[str]]
    # Every keyring kind the type may keep: those not needed are removed.
    kept_kinds: tuple[str, ...]
    # The target's fields for this type, e.g. {"oauth2": OAuth2(...)}.
    settings: Callable[[Answers], dict[str, Any]]
    # Summary rows after "Authentication"; `secret(kind)` is a secret's masked row.
    summary: Callable[[Target, Callable[[str], str]], list[tuple[str, str]]]
    # The type's own flags (besides the common ones); any other type's flag is
    # refused when this type is configured (exit 2).
    flags: tuple[str, ...] = ()
    # How a CI run that lacks a secret is told to give it, where this type has
    # more ways than its `--…-stdin` flag (a key file, a key made here).
    missing: Mapping[str, str] = field(default_factory=dict)


def refuse_foreign_flags(s: Session, auth_type: AuthType) -> None:
    """A flag of another auth type does not fit this one (exit 2)."""
    from astra_auth.commands.configure.options import type_flags_given
    from astra_auth.core.errors import UsageError

    foreign = [flag for flag in type_flags_given(s.opts) if flag not in auth_type.flags]
    if foreign:
        raise UsageError(
            f"{', '.join(foreign)}: not a setting of the {auth_type.choice.label} auth type "
            f"(auth_type {auth_type.key}); leave {'it' if len(foreign) == 1 else 'them'} out, "
            "or choose the type it belongs to with --auth-type"
        )
