"""Keys checked when they are given, before anything is saved.

A private key (`private_key_jwt`, `tls_client_auth`) or signing key (`jwt`,
`http_signature`) that `configure` is about to store is checked by the very
code that uses it at run time (`ClientKey`, `jwt.signing_key`,
`http_signature.load_key`), so that a truncated, encrypted or unfitting key
is refused here, as `invalid_key` (exit 3), instead of replacing a working
key and failing during the scan.  A stored key is checked too when the
algorithm it must sign with changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.commands.configure.answers import SECRETS, Session
from astra_auth.commands.configure.ask import ask_secret, old_settings
from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.storage.secretstore import entry
from astra_auth.text.shellcmd import Placeholder, configure, piped_secret

if TYPE_CHECKING:
    from astra_auth.commands.configure.answers import Answers

# The keyring kinds that hold a key checked here.
KEY_KINDS = ("private_key", "signing_key")
# The algorithms whose key is a shared secret rather than a PEM private key.
SHARED_SECRET_ALGORITHMS = ("HS256", "HS384", "HS512", "hmac-sha256")


def algorithm(answers: Answers, kind: str) -> str | None:
    """The algorithm the key of `kind` signs with under these answers (None:
    the key only has to be readable, as for tls_client_auth)."""
    if kind == "private_key":
        o = answers.oauth2
        if o.client_auth != "private_key_jwt":
            return None
        from astra_auth.oauth.client_auth import provider_defaults

        return o.assertion_alg or provider_defaults(o.token_url or "").alg
    alg: str | None = answers.fields.get("algorithm")
    return alg


def problem(answers: Answers, kind: str, value: str, *, check_alg: bool = True) -> str | None:
    """Why `value` cannot be used as these answers' key of `kind`, as a
    sentence; None when it can.  `check_alg=False`: only whether it can be
    read (a private key asked for before its algorithm)."""
    alg = algorithm(answers, kind) if check_alg else None
    reason: str | None = None
    if kind == "private_key":
        from astra_auth.oauth.client_auth import ClientKey, KeyProblem

        key = ClientKey(value)
        try:
            key.private_key()
            if alg is not None:
                key.check_alg(alg)
        except KeyProblem as exc:
            reason = exc.failure.message
    elif answers.auth_type == "jwt" and alg is not None:
        from astra_auth.credentials.jwt import signing_key

        try:
            signing_key(alg, value)
        except ValueError as exc:
            reason = str(exc)
    elif answers.auth_type == "http_signature" and alg is not None:
        from astra_auth.signing.http_signature import load_key
        from astra_auth.signing.message import InvalidKey

        try:
            load_key(alg, value)
        except InvalidKey as exc:
            reason = str(exc)
    if reason is None:
        return None
    if not reason.startswith(str(algorithm(answers, kind))):  # "ed25519 needs …" stays
        reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith(".") else reason + "."


def settled_problem(s: Session, kind: str) -> str | None:
    """Why the key of `kind` these answers keep cannot be used, or None: a
    new key always, a stored one when the algorithm changed (read from the
    keyring), a key read from the environment at run time never."""
    answers = s.answers
    secret = answers.secrets.get(kind)
    if secret is None or secret.state == "env":
        return None
    value = secret.value
    if secret.state == "stored":
        if algorithm(answers, kind) == _old_algorithm(s, kind):
            return None
        value = s.deps.secrets.get(entry(answers.name, kind))
        if value is None:
            return None
    assert value is not None
    return problem(answers, kind, value)


def _old_algorithm(s: Session, kind: str) -> str | None:
    """The algorithm the stored key was kept for (None without one)."""
    if kind == "private_key":
        o = old_settings(s, "oauth2")
        if o is None or o.client_auth != "private_key_jwt":
            return None
        from astra_auth.oauth.client_auth import provider_defaults

        return o.assertion_alg or provider_defaults(o.token_url).alg
    settings = old_settings(s, s.answers.auth_type)
    alg: str | None = getattr(settings, "algorithm", None)
    return alg


def refuse_unfit_keys(s: Session) -> None:
    """Before saving: every key these answers keep fits its algorithm, or
    `invalid_key` (exit 3) with the command that gives one that does."""
    for kind in KEY_KINDS:
        reason = settled_problem(s, kind)
        if reason is not None:
            raise unfit(s, kind, reason)


def ask_until_fit(s: Session, kind: str) -> None:
    """The key from its flag, its variable or a prompt, asked for again until
    it fits; one given by flag or variable that does not fit ends the run."""
    while True:
        ask_secret(s, kind)
        reason = settled_problem(s, kind)
        if reason is None:
            return
        if s.given.get(kind) is not None:
            raise unfit(s, kind, reason)
        s.deps.io.warn(f"{reason} Try again.")


def unfit(s: Session, kind: str, reason: str) -> CredentialError:
    """The `invalid_key` error for an unfit key: what is wrong, that nothing
    was saved, and the commands that fix it."""
    answers = s.answers
    name = answers.name
    alg = algorithm(answers, kind)
    secret = answers.secrets.get(kind)
    readable = secret is None or secret.value is None or problem(
        answers, kind, secret.value, check_alg=False) is None
    what = SECRETS[kind].what
    use = (f"cannot sign with {alg}" if alg is not None and readable else "cannot be used")
    hints = []
    if kind == "private_key":
        hints.append("Give a key that fits: "
                     + configure(name, "--private-key-file", Placeholder("PATH")))
        if alg is not None and readable:
            hints.append("Or sign with an algorithm that fits the key: "
                         + configure(name, "--assertion-alg", Placeholder("RS256|PS256|ES256")))
    elif alg in SHARED_SECRET_ALGORITHMS:
        hints.append("Give a shared secret (not a PEM key) that fits: " + piped_secret(
            "SIGNING_KEY", configure(name, "--signing-key-stdin")))
    else:
        hints.append("Give a key that fits: "
                     + configure(name, "--signing-key-file", Placeholder("PATH")))
        if answers.auth_type == "http_signature":
            hints.append("Or make a new key pair: " + configure(name, "--generate-key"))
    return CredentialError(Failure(
        Category.INVALID_KEY, f"The {what} for {name} {use}: {reason} Nothing was saved."),
        hints)
