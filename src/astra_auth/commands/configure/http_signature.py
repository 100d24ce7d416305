"""HTTP Message Signatures (RFC 9421) as `configure` sees them: the algorithm,
the key (made here, read once from a PEM file, or the API's shared secret for
hmac-sha256), the key ID the API knows it by, the covered components, the
label and the signature's lifetime.

The key is checked against the algorithm before anything is saved
(`invalid_key`, exit 3: the stored key untouched); a key made here is shown
only as its public half, by `targets show`, to register with the API.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from astra_auth.commands.configure.answers import Answers, AuthType, Secret, Session
from astra_auth.commands.configure.ask import ask_choice, ask_valid, old_settings
from astra_auth.commands.configure.keys import ask_until_fit, settled_problem
from astra_auth.commands.configure.keys import problem as key_problem
from astra_auth.commands.configure.options import read_key_file
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.storage.config import HttpSignature, Target
from astra_auth.storage.secretstore import entry
from astra_auth.text.shellcmd import command
from astra_auth.ui.prompter import Choice

ALGORITHMS = [
    ("ed25519", Choice("ed25519", "EdDSA with an Ed25519 key (RFC 9421 §3.3.6)")),
    ("ecdsa-p256-sha256", Choice("ecdsa-p256-sha256", "ECDSA with a P-256 key and SHA-256")),
    ("rsa-pss-sha512", Choice("rsa-pss-sha512", "RSASSA-PSS with SHA-512")),
    ("rsa-v1_5-sha256", Choice("rsa-v1_5-sha256", "RSASSA-PKCS1-v1_5 with SHA-256")),
    ("hmac-sha256", Choice("hmac-sha256", "HMAC with SHA-256 and a secret shared with the API")),
]


def _own_algorithm(value: str) -> str:
    """--algorithm is shared with jwt: this type takes only its own."""
    try:
        return validate.choice(value, validate.HTTP_SIGNATURE_ALGORITHMS)
    except ValueError as exc:
        raise UsageError(f"--algorithm: {exc}") from None


def ask_algorithm(s: Session) -> None:
    old = old_settings(s, "http_signature")
    if s.opts.algorithm is not None:
        s.answers.fields["algorithm"] = _own_algorithm(s.opts.algorithm)
        return
    s.answers.fields["algorithm"] = ask_choice(s.deps, "Signature algorithm", ALGORITHMS,
                                               old.algorithm if old else None)


def ask_key(s: Session) -> None:
    """Made here, read from a PEM file, or kept; for hmac-sha256 the API's shared
    secret, typed hidden.  Checked against the algorithm before it is taken."""
    answers, deps = s.answers, s.deps
    algorithm = answers.fields["algorithm"]
    if s.opts.generate_key:
        answers.secrets["signing_key"] = Secret("new", _generate(algorithm))
        return
    if answers.secrets_mode == "env" or s.given.get("signing_key") is not None or (
            algorithm == "hmac-sha256"):
        ask_until_fit(s, "signing_key")
        return
    stored = _fits_stored(s)
    choices = [Choice("Make a new key pair here",
                      "then register its public key with the API (targets show gives it)"),
               Choice("Read my private key from a PEM file", "read once into the OS keyring")]
    if stored:
        choices.insert(0, Choice("Keep the stored key", "it fits " + algorithm))
    picked = deps.prompter.select("Signing key", choices, default=0)
    if stored and picked == 0:
        answers.secrets["signing_key"] = Secret("stored")
        return
    if picked == len(choices) - 2:
        answers.secrets["signing_key"] = Secret("new", _generate(algorithm))
        deps.io.info("A new key pair was made. After saving, register its public key with the "
                     "API: " + command("targets", "show", answers.name))
        return
    while True:
        path = deps.prompter.text("Private key file (PEM; read once into the OS keyring)",
                                  default=None)
        try:
            value = read_key_file(Path(path.strip()).expanduser(), "key file", deps.io.warn)
        except UsageError as exc:
            deps.io.warn(f"{exc.message}. Try again.")
            continue
        answers.secrets["signing_key"] = Secret("new", value)
        problem = settled_problem(s, "signing_key")
        if problem is None:
            return
        deps.io.warn(f"{problem} Try again.")


def ask_key_id(s: Session) -> None:
    old = old_settings(s, "http_signature")
    s.answers.fields["key_id"] = s.opts.key_id or ask_valid(
        s.deps, "Key ID (the keyid the API knows this key by)", old.key_id if old else None,
        validate.signature_key_id)


def _components_text(value: str) -> str:
    names = value.split()
    if not names:
        raise ValueError("cover at least one component")
    for name in names:
        validate.signature_component(name)
    if len(set(names)) != len(names):
        raise ValueError("a component is named twice")
    return " ".join(names)


def ask_components(s: Session) -> None:
    old = old_settings(s, "http_signature")
    if s.opts.components:
        s.answers.fields["components"] = list(s.opts.components)
        return
    current = " ".join(old.components if old else validate.HTTP_SIGNATURE_COMPONENTS)
    s.answers.fields["components"] = ask_valid(
        s.deps, "Covered components, separated by spaces (a header the request lacks is left "
        "out of its signature)", current, _components_text).split()


def ask_label(s: Session) -> None:
    old = old_settings(s, "http_signature")
    s.answers.fields["label"] = s.opts.label or ask_valid(
        s.deps, "Signature label", old.label if old else "sig1", validate.signature_label)


def ask_lifetime(s: Session) -> None:
    old = old_settings(s, "http_signature")
    if s.opts.lifetime is not None:
        s.answers.fields["lifetime"] = s.opts.lifetime
        return

    def check(value: str) -> str:
        if not value.strip().isdigit() or not 1 <= int(value) <= validate.MAX_SIGNATURE_LIFETIME:
            raise ValueError("give a number of seconds from 1 to "
                             f"{validate.MAX_SIGNATURE_LIFETIME}")
        return value.strip()

    s.answers.fields["lifetime"] = int(ask_valid(
        s.deps, "Lifetime in seconds (the signature's expires)",
        str(old.lifetime if old else 300), check))


def from_flags(s: Session) -> None:
    old = old_settings(s, "http_signature")
    f, opts = s.answers.fields, s.opts
    f["algorithm"] = (_own_algorithm(opts.algorithm) if opts.algorithm
                      else old.algorithm if old else None)
    if f["algorithm"] is None:
        s.missing.append("--algorithm")
    f["key_id"] = opts.key_id or (old.key_id if old else None)
    if f["key_id"] is None:
        s.missing.append("--key-id")
    f["components"] = list(opts.components) if opts.components else (
        list(old.components) if old else list(validate.HTTP_SIGNATURE_COMPONENTS))
    f["label"] = opts.label or (old.label if old else "sig1")
    f["lifetime"] = opts.lifetime or (old.lifetime if old else 300)
    if opts.generate_key and f["algorithm"] is not None:
        s.answers.secrets["signing_key"] = Secret("new", _generate(f["algorithm"]))


def _fits_stored(s: Session) -> bool:
    value = s.deps.secrets.get(entry(s.answers.name, "signing_key"))
    return value is not None and key_problem(s.answers, "signing_key", value) is None


def _generate(algorithm: str) -> str:
    from astra_auth.signing.http_signature import generate_key

    return generate_key(algorithm)


def settings(answers: Answers) -> dict[str, Any]:
    f = answers.fields
    return {"http_signature": HttpSignature(
        key_id=f["key_id"], algorithm=f["algorithm"], components=list(f["components"]),
        label=f["label"], lifetime=f["lifetime"], secrets=answers.secrets_mode)}


def summary(target: Target, secret: Callable[[str], str]) -> list[tuple[str, str]]:
    h = target.http_signature
    assert h is not None
    return [("Algorithm", h.algorithm), ("Key", secret("signing_key")), ("Key ID", h.key_id),
            ("Components", " ".join(h.components)), ("Label", h.label),
            ("Lifetime", f"{h.lifetime} seconds")]


TYPE = AuthType(
    key="http_signature",
    choice=Choice(validate.AUTH_LABELS["http_signature"],
                  "every request signed with a key (RFC 9421)"),
    steps=(ask_algorithm, ask_key, ask_key_id, ask_components, ask_label, ask_lifetime),
    from_flags=from_flags,
    # CI checks the key as for every type, once the answers are complete (keys.py).
    from_provider=lambda s: None,
    secret_kinds=lambda answers: ["signing_key"],
    kept_kinds=("signing_key",),
    settings=settings,
    summary=summary,
    flags=("--algorithm", "--signing-key-stdin", "--signing-key-file", "--generate-key",
           "--key-id", "--component", "--label", "--lifetime"),
    missing={"signing_key": "--signing-key-file PATH, --signing-key-stdin or --generate-key "
                            "(or ASTRA_AUTH_SIGNING_KEY)"},
)
