"""JWTs signed here, as `configure` sees them: algorithm, key, claims, lifetime,
header name and prefix.  A PEM key is read once from a file and kept in the
keyring; the config never holds a path to it (docs/files-and-secrets.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from astra_auth.commands.configure.answers import Answers, AuthType, Secret, Session
from astra_auth.commands.configure.ask import ask_choice, ask_valid, old_settings
from astra_auth.commands.configure.options import parse_claims, read_key_file
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.storage.config import Jwt, Target
from astra_auth.ui.prompter import Choice

ALGORITHMS = [
    ("HS256", Choice("HS256", "HMAC with SHA-256 and a shared secret")),
    ("HS384", Choice("HS384", "HMAC with SHA-384 and a shared secret")),
    ("HS512", Choice("HS512", "HMAC with SHA-512 and a shared secret")),
    ("RS256", Choice("RS256", "RSA PKCS#1 v1.5 with a PEM private key")),
    ("PS256", Choice("PS256", "RSA-PSS with a PEM private key")),
    ("ES256", Choice("ES256", "ECDSA P-256 with a PEM private key")),
]


def _own_algorithm(value: str) -> str:
    """--algorithm is shared with http_signature: this type takes only its own."""
    try:
        return validate.choice(value, validate.JWT_ALGORITHMS)
    except ValueError as exc:
        raise UsageError(f"--algorithm: {exc}") from None


def ask_algorithm(s: Session) -> None:
    old = old_settings(s, "jwt")
    if s.opts.algorithm is not None:
        s.answers.fields["algorithm"] = _own_algorithm(s.opts.algorithm)
        return
    s.answers.fields["algorithm"] = ask_choice(s.deps, "Signing algorithm", ALGORITHMS,
                                               old.algorithm if old else None)


def ask_key(s: Session) -> None:
    """A shared secret (hidden), or for RS/PS/ES the path of a PEM file, read now.
    A key that does not fit the algorithm is said, and asked for again."""
    from astra_auth.commands.configure.keys import ask_until_fit, settled_problem
    from astra_auth.storage.secretstore import entry

    if s.answers.fields["algorithm"].startswith("HS") or s.answers.secrets_mode == "env" or (
            s.given.get("signing_key") is not None):
        ask_until_fit(s, "signing_key")
        return
    stored = s.deps.secrets.get(entry(s.answers.name, "signing_key")) is not None
    while True:
        path = s.deps.prompter.text(
            "Private key file (PEM; read once and kept in the OS keyring)"
            + ("; Enter keeps the stored key" if stored else ""), default=None)
        if not path.strip() and stored:
            s.answers.secrets["signing_key"] = Secret("stored")
        else:
            try:
                value = read_key_file(Path(path.strip()).expanduser(), "key file",
                                      s.deps.io.warn)
            except UsageError as exc:
                s.deps.io.warn(f"{exc.message}. Try again.")
                continue
            s.answers.secrets["signing_key"] = Secret("new", value)
        problem = settled_problem(s, "signing_key")
        if problem is None:
            return
        if s.answers.secrets["signing_key"].state == "stored":
            stored = False  # it does not fit this algorithm: a new one is needed
        s.deps.io.warn(f"{problem} Try again.")


def _claims_text(value: str) -> str:
    value = value.strip() or "{}"
    try:
        data = json.loads(value)
    except ValueError:
        raise ValueError('give the claims as a JSON object, e.g. {"sub": "scanner"}') from None
    if not isinstance(data, dict):
        raise ValueError("the claims must be a JSON object")
    for key in validate.JWT_TIMED_CLAIMS:
        if key in data:
            raise ValueError(f"{key} is set for each token; leave it out")
    return value


def ask_claims(s: Session) -> None:
    old = old_settings(s, "jwt")
    if s.opts.claims:
        s.answers.fields["claims"] = parse_claims(s.opts.claims)
        return
    current = json.dumps(old.claims) if old else "{}"
    text = ask_valid(s.deps, "Claims (a JSON object; iat, exp and jti are added per token)",
                     current, _claims_text)
    s.answers.fields["claims"] = json.loads(text)


def ask_lifetime(s: Session) -> None:
    old = old_settings(s, "jwt")
    if s.opts.lifetime is not None:
        s.answers.fields["lifetime"] = s.opts.lifetime
        return

    def check(value: str) -> str:
        if not value.strip().isdigit() or not 1 <= int(value) <= validate.MAX_JWT_LIFETIME:
            raise ValueError(f"give a number of seconds from 1 to {validate.MAX_JWT_LIFETIME}")
        return value.strip()

    s.answers.fields["lifetime"] = int(ask_valid(
        s.deps, "Lifetime in seconds", str(old.lifetime if old else 300), check))


def ask_header(s: Session) -> None:
    old = old_settings(s, "jwt")
    s.answers.fields["header_name"] = s.opts.header_name or ask_valid(
        s.deps, "Header name", old.header_name if old else "Authorization", validate.header_name)
    if s.opts.prefix is not None:
        s.answers.fields["prefix"] = s.opts.prefix
        return
    answer = ask_valid(s.deps, "Prefix before the token ('-' for none)",
                       (old.prefix or "-") if old else "Bearer",
                       lambda v: v.strip() if v.strip() == "-" else validate.header_prefix(v))
    s.answers.fields["prefix"] = "" if answer == "-" else answer


def from_flags(s: Session) -> None:
    old = old_settings(s, "jwt")
    f, opts = s.answers.fields, s.opts
    f["algorithm"] = (_own_algorithm(opts.algorithm) if opts.algorithm
                      else old.algorithm if old else None)
    if f["algorithm"] is None:
        s.missing.append("--algorithm")
    f["claims"] = parse_claims(opts.claims) if opts.claims else (old.claims if old else {})
    f["lifetime"] = opts.lifetime or (old.lifetime if old else 300)
    f["header_name"] = opts.header_name or (old.header_name if old else "Authorization")
    f["prefix"] = opts.prefix if opts.prefix is not None else (old.prefix if old else "Bearer")


def settings(answers: Answers) -> dict[str, Any]:
    f = answers.fields
    return {"jwt": Jwt(algorithm=f["algorithm"], claims=f["claims"], lifetime=f["lifetime"],
                       header_name=f["header_name"], prefix=f["prefix"],
                       secrets=answers.secrets_mode)}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    j = target.jwt
    assert j is not None
    return [("Algorithm", j.algorithm), ("Signing key", secret("signing_key")),
            ("Claims", json.dumps(j.claims, ensure_ascii=False)),
            ("Lifetime", f"{j.lifetime} seconds"),
            ("Header", f"{j.header_name}: {j.prefix + ' ' if j.prefix else ''}<signed JWT>")]


TYPE = AuthType(
    key="jwt",
    choice=Choice(validate.AUTH_LABELS["jwt"], "a short-lived JWT this tool signs for each use"),
    steps=(ask_algorithm, ask_key, ask_claims, ask_lifetime, ask_header),
    from_flags=from_flags,
    from_provider=lambda s: None,
    secret_kinds=lambda answers: ["signing_key"],
    kept_kinds=("signing_key",),
    settings=settings,
    summary=summary,
    flags=("--algorithm", "--signing-key-stdin", "--signing-key-file", "--claim", "--lifetime",
           "--header-name", "--prefix"),
)
