"""`configure`'s flags: checked once, and the secrets that came with them read once.

`check_flags` returns a checked copy of the options instead of changing them, so
the options the command line filled stay what the user typed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from astra_auth.commands.configure.answers import SECRETS, SecretSpec
from astra_auth.commands.options.configure import ConfigureOptions
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.text.shellcmd import quote

if TYPE_CHECKING:
    from astra_auth.deps import Deps

# Every flag that belongs to one auth type (or grant), with its options field:
# a flag the configured type does not list in `AuthType.flags` is refused.
TYPE_FLAGS = {
    "--grant-type": "grant_type", "--token-url": "token_url", "--issuer": "issuer",
    "--client-id": "client_id", "--client-secret": "client_secret",
    "--client-secret-stdin": "client_secret_stdin", "--client-auth": "client_auth",
    "--scope": "scope", "--audience": "audience",
    "--username": "username", "--password": "password", "--password-stdin": "password_stdin",
    "--token-stdin": "token_stdin",
    "--key-name": "key_name", "--key-location": "key_location", "--api-key-stdin": "api_key_stdin",
    "--algorithm": "algorithm", "--signing-key-stdin": "signing_key_stdin",
    "--signing-key-file": "signing_key_file", "--claim": "claims", "--lifetime": "lifetime",
    "--header-name": "header_name", "--prefix": "prefix",
    "--private-key-file": "private_key_file", "--private-key-stdin": "private_key_stdin",
    "--certificate": "certificate", "--assertion-alg": "assertion_alg",
    "--assertion-audience": "assertion_audience", "--assertion-kid": "assertion_kid",
    "--param": "params",
    "--certificate-bound": "certificate_bound",
    "--authorization-url": "authorization_url",
    "--device-authorization-url": "device_authorization_url",
    # The signing schemes
    "--access-key-id": "access_key_id", "--region": "region", "--service": "service",
    "--secret-access-key-stdin": "secret_access_key_stdin",
    "--session-token-stdin": "session_token_stdin",
    "--key-id": "key_id", "--generate-key": "generate_key", "--component": "components",
    "--label": "label", "--dpop": "dpop", "--dpop-alg": "dpop_alg",
}


def type_flags_given(opts: ConfigureOptions) -> list[str]:
    """The type-specific flags the command line used, in TYPE_FLAGS' order."""
    return [flag for flag, attr in TYPE_FLAGS.items()
            if getattr(opts, attr) not in (None, False, ())]


def insecure_url_error(flag: str, exc: ValueError, value: str) -> UsageError:
    """A plain-http URL typed as `flag`: exit 2, `insecure_url`, with the
    https address to give instead (the flag alone: the rest of the command
    line stays as it was)."""
    https = validate.https_form(value.strip())
    return UsageError(f"{flag}: {exc}", category="insecure_url",
                      hints=[f"Give the https address instead: {flag} {quote(https)}"])


def check_flags(opts: ConfigureOptions) -> ConfigureOptions:
    """Every value given as a flag, validated (and normalised, e.g. the grant's
    spelling); conflicts are usage errors.  The first bad flag, in this order,
    is the one reported."""

    def check(flag: str, value: str | None, fn: Callable[[str], str]) -> str | None:
        if value is None:
            return None
        try:
            return fn(value)
        except validate.InsecureURL as exc:
            raise insecure_url_error(flag, exc, value) from None
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None

    name = check("NAME", opts.name, validate.target_name)
    auth_type = check(
        "--auth-type", opts.auth_type, lambda v: validate.choice(v, validate.AUTH_TYPES)
    )
    grant_type = check("--grant-type", opts.grant_type, validate.grant_type)
    token_url = check("--token-url", opts.token_url, validate.token_url)
    issuer = check("--issuer", opts.issuer, validate.token_url)
    if issuer is not None and token_url is not None:
        raise UsageError("--issuer and --token-url cannot be used together: the issuer's "
                         "discovery document names the token URL")
    checked = replace(
        opts,
        name=name,
        auth_type=auth_type,
        grant_type=grant_type,
        token_url=token_url,
        issuer=issuer,
        url=check("--url", opts.url, validate.api_url),
        client_id=check(
            "--client-id", opts.client_id,
            lambda v: validate.plain_value(v, "client ID", validate.MAX_CLIENT_ID),
        ),
        username=check(
            "--username", opts.username,
            lambda v: validate.plain_value(v, "username", validate.MAX_USERNAME),
        ),
        scope=check(
            "--scope", opts.scope,
            lambda v: validate.plain_value(v, "scope", validate.MAX_SCOPE, allow_empty=True),
        ),
        audience=check(
            "--audience", opts.audience,
            lambda v: validate.plain_value(v, "audience", validate.MAX_URL, allow_empty=True),
        ),
        client_auth=check(
            "--client-auth", opts.client_auth,
            lambda v: validate.choice(v, validate.CLIENT_AUTH_METHODS),
        ),
        secrets=check(
            "--secrets", opts.secrets, lambda v: validate.choice(v, validate.SECRET_MODES)
        ),
        key_name=check("--key-name", opts.key_name, validate.key_name),
        key_location=check("--key-location", opts.key_location,
                           lambda v: validate.choice(v, validate.KEY_LOCATIONS)),
        # Each type checks that the algorithm is one of its own.
        algorithm=check("--algorithm", opts.algorithm, lambda v: validate.choice(
            v, validate.JWT_ALGORITHMS + validate.HTTP_SIGNATURE_ALGORITHMS)),
        header_name=check("--header-name", opts.header_name, validate.header_name),
        authorization_url=check("--authorization-url", opts.authorization_url,
                                validate.token_url),
        device_authorization_url=check("--device-authorization-url",
                                       opts.device_authorization_url, validate.token_url),
        prefix=check("--prefix", opts.prefix, validate.header_prefix),
        access_key_id=check("--access-key-id", opts.access_key_id, validate.aws_access_key_id),
        region=check("--region", opts.region, lambda v: validate.aws_name(v, "region")),
        service=check("--service", opts.service, lambda v: validate.aws_name(v, "service")),
        key_id=check("--key-id", opts.key_id, validate.signature_key_id),
        label=check("--label", opts.label, validate.signature_label),
        dpop_alg=check("--dpop-alg", opts.dpop_alg,
                       lambda v: validate.choice(v, validate.DPOP_ALGORITHMS)),
    )
    try:
        components = tuple(validate.signature_component(c) for c in checked.components)
    except ValueError as exc:
        raise UsageError(f"--component: {exc}") from None
    if len(set(components)) != len(components):
        raise UsageError("--component: a component is named twice")
    checked = replace(checked, components=components)
    if checked.generate_key and (checked.signing_key_stdin
                                 or checked.signing_key_file is not None):
        raise UsageError("--generate-key makes the key: leave out --signing-key-stdin and "
                         "--signing-key-file")
    if checked.dpop_alg is not None and checked.dpop is False:
        raise UsageError("--dpop-alg is the DPoP key's algorithm: it does not go with --no-dpop")
    if checked.lifetime is not None and not 1 <= checked.lifetime <= validate.MAX_JWT_LIFETIME:
        raise UsageError(f"--lifetime: give a number of seconds from 1 to "
                         f"{validate.MAX_JWT_LIFETIME}")
    parse_claims(checked.claims)
    checked = _check_enterprise(checked, check)
    if checked.signing_key_stdin and checked.signing_key_file is not None:
        raise UsageError("--signing-key-stdin and --signing-key-file cannot be used together")
    for spec in SECRETS.values():
        if _value(checked, spec) is not None and _stdin(checked, spec):
            raise UsageError(f"{spec.flag} and {spec.stdin_flag} cannot be used together")
    if checked.grant_type not in (None, "password"):
        refuse_user_flags(checked)
    if checked.secrets == "env":
        given = [flag for spec in SECRETS.values() for flag in flags_given(
            checked, *((spec.flag,) if spec.value_flag else ()), spec.stdin_flag)]
        if checked.signing_key_file is not None:
            given.append("--signing-key-file")
        if checked.private_key_file is not None:
            given.append("--private-key-file")
        if checked.generate_key:
            given.append("--generate-key")
        if given:
            kinds = [spec.kind for spec in SECRETS.values()
                     if {spec.flag, spec.stdin_flag} & set(given)] or ["client_secret",
                                                                       "password"]
            if {"--signing-key-file", "--generate-key"} & set(given):
                kinds.append("signing_key")
            if "--private-key-file" in given:
                kinds.append("private_key")
            kinds = list(dict.fromkeys(kinds))
            raise UsageError(
                f"{', '.join(given)}: with --secrets env nothing is stored; set "
                + " / ".join(f"ASTRA_AUTH_<TARGET>_{kind.upper()}" for kind in kinds)
                + " (or " + " / ".join(f"ASTRA_AUTH_{kind.upper()}" for kind in kinds)
                + ") where astra-auth runs instead, or store it with --secrets keyring"
            )
    return checked


def _check_enterprise(opts: ConfigureOptions, check: Callable[..., str | None]
                      ) -> ConfigureOptions:
    from astra_auth.net.settings import check_network_options

    check_network_options(opts.timeout, opts.ca_bundle)
    if opts.private_key_stdin and opts.private_key_file is not None:
        raise UsageError("--private-key-stdin and --private-key-file cannot be used together")
    parse_params(opts.params)
    return replace(
        opts,
        ca_bundle=opts.ca_bundle.resolve() if opts.ca_bundle is not None else None,
        certificate=check("--certificate", opts.certificate, _certificate_path),
        assertion_alg=check("--assertion-alg", opts.assertion_alg,
                            lambda v: validate.choice(v, validate.ASSERTION_ALGORITHMS)),
        assertion_audience=check(
            "--assertion-audience", opts.assertion_audience,
            lambda v: validate.plain_value(v, "assertion audience", validate.MAX_URL,
                                           allow_empty=True)),
        # "" goes back to the key's thumbprint.
        assertion_kid=check("--assertion-kid", opts.assertion_kid,
                            lambda v: validate.signature_key_id(v) if v.strip() else ""),
    )


def _certificate_path(value: str) -> str:
    """A certificate file that exists, saved as an absolute path (configure may
    run in another folder than the scanner)."""
    path = Path(validate.file_path(value, "certificate path")).expanduser()
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    data = path.read_bytes()[:validate.MAX_SECRET * 4]
    if b"PRIVATE KEY-----" in data:
        raise ValueError(f"{path} holds a private key; give the key with --private-key-file "
                         "(it goes to the keyring) and only the certificate here")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError(f"{path} is not a PEM certificate (-----BEGIN CERTIFICATE-----)")
    return str(path.resolve())


def parse_params(params: tuple[str, ...]) -> dict[str, str]:
    """`--param NAME=VALUE`s, checked: never one of the token request's own fields."""
    parsed: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param: {item[:60]!r} is not NAME=VALUE")
        try:
            key, checked = validate.extra_param(name.strip(), value)
        except ValueError as exc:
            raise UsageError(f"--param: {exc}") from None
        parsed[key] = checked
    return parsed


def parse_claims(claims: tuple[str, ...]) -> dict[str, object]:
    """`--claim NAME=VALUE`s as a claims object: VALUE as JSON when it parses
    (`--claim admin=true`, `--claim n=3`), else as a string."""
    import json

    parsed: dict[str, object] = {}
    for item in claims:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--claim: {item!r} is not NAME=VALUE")
        if name in validate.JWT_TIMED_CLAIMS:
            raise UsageError(f"--claim: {name} is set for each token; leave it out")
        try:
            parsed[name] = json.loads(value)
        except ValueError:
            parsed[name] = value
    return parsed


def flags_given(opts: ConfigureOptions, *flags: str) -> list[str]:
    """Which of these flags the command line used."""
    present = {"--username": opts.username is not None}
    for spec in SECRETS.values():
        if spec.value_flag:
            present[spec.flag] = _value(opts, spec) is not None
        present[spec.stdin_flag] = _stdin(opts, spec)
    return [flag for flag in flags if present[flag]]


def refuse_user_flags(opts: ConfigureOptions, grant: str | None = None) -> None:
    """A grant without a user: the user's flags do not fit it (a usage error)."""
    given = flags_given(opts, "--username", "--password", "--password-stdin")
    grant = grant or opts.grant_type
    if given and grant in validate.LOGIN_GRANTS:
        raise UsageError(
            f"{', '.join(given)}: the {grant} grant keeps no username or password; "
            f"the user logs in once with: astra-auth login {opts.name or 'NAME'}"
        )
    if given:
        raise UsageError(
            f"{', '.join(given)}: the client credentials grant has no user; use --grant-type "
            "password, or device_code to act as a user without keeping a password"
        )


# ---------------------------------------------------------------------------
# Secrets given with the flags


@dataclass
class Given:
    """Secrets given on the command line or standard input, not yet stored, by kind."""

    values: dict[str, str] = field(default_factory=dict, repr=False)

    def get(self, kind: str) -> str | None:
        return self.values.get(kind)


_COUNTS = {2: "two", 3: "three"}


def read_given(opts: ConfigureOptions, deps: Deps, interactive: bool) -> Given:
    """Read the secrets the flags hand over: `--client-secret VALUE`, or one line
    of standard input per `--…-stdin` flag, in the order the flags are listed."""
    given = Given()
    specs = list(SECRETS.values())
    for spec in specs:
        if _value(opts, spec) is not None:
            deps.io.warn(
                f"{spec.flag} puts the secret in the process list and your shell history; "
                f"prefer {spec.stdin_flag} or the environment variable"
            )
    for spec in specs:
        value = _value(opts, spec)
        if value is not None:
            given.values[spec.kind] = check_secret(value, spec.flag, spec.what)

    if opts.signing_key_file is not None:
        given.values["signing_key"] = read_key_file(opts.signing_key_file, "--signing-key-file",
                                                    deps.io.warn)
    if opts.private_key_file is not None:
        given.values["private_key"] = read_key_file(opts.private_key_file, "--private-key-file",
                                                    deps.io.warn)
    wanted = [spec for spec in specs if _stdin(opts, spec)]
    if not wanted:
        return given
    if len(wanted) == 1 and wanted[0].multiline and not deps.io.stdin_is_tty:
        # A PEM key spans lines: the whole of standard input is the secret.
        given.values[wanted[0].kind] = check_secret(
            _read_stdin(deps).strip("\n") + "\n", wanted[0].stdin_flag, wanted[0].what,
            multiline=True)
        return given
    if deps.io.stdin_is_tty:
        # A person is typing (`--no-input` too: standard input is the terminal),
        # so read hidden instead of reading a line the terminal echoes.
        for spec in wanted:
            label = spec.label + ("" if interactive else f" for {spec.stdin_flag}")
            given.values[spec.kind] = check_secret(
                deps.prompter.secret(label + " (hidden)"), spec.stdin_flag, spec.what
            )
        return given
    lines = _read_stdin(deps).splitlines()
    if len(lines) != len(wanted) or not all(lines):
        if len(wanted) == 1:
            raise UsageError(
                f"{wanted[0].stdin_flag}: standard input must hold exactly one line, the secret "
                f"({'it was empty' if not any(lines) else f'it has {len(lines)} lines'})"
            )
        raise UsageError(
            f"{' '.join(s.stdin_flag for s in wanted)}: standard input must hold "
            f"{_COUNTS.get(len(wanted), len(wanted))} lines, the "
            + " and then the ".join(s.what for s in wanted)
        )
    for spec, line in zip(wanted, lines, strict=True):
        given.values[spec.kind] = check_secret(line, spec.stdin_flag, spec.what)
    return given


# Standard input is read up to this much: the secrets on it are far smaller,
# and `< /dev/zero` must end in an error, not in a full memory.
MAX_STDIN = 1024 * 1024


def _read_stdin(deps: Deps) -> str:
    text = deps.io.stdin.read(MAX_STDIN + 1)
    if len(text) > MAX_STDIN:
        raise UsageError("standard input holds more than 1 MiB: far more than the secrets "
                         "it should hold")
    return text


def check_secret(value: str, source: str, what: str, *, multiline: bool = False) -> str:
    """A secret value checked; `source` (a flag or variable) names it in the error."""
    try:
        if multiline and "-----BEGIN" in value:
            return validate.pem_value(value, what)
        return validate.secret_value(value, what)
    except ValueError as exc:
        raise UsageError(f"{source}: {exc}") from None


def read_key_file(path: Path, flag: str, warn: Callable[[str], None] | None = None) -> str:
    """A key file, read once (the tool keeps no path to a private key).  A PEM
    key is a few kilobytes: no more than a secret's limit is read, so that
    /dev/zero or a huge file ends in an error, not in a full memory.  `warn`
    is told when other users can read the file."""
    try:
        # O_NONBLOCK: a named pipe that no one writes to must not hang the
        # open; reads then block as usual (a pipe without a writer reads as empty).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UsageError(f"{flag}: {path}: cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{flag}: {path}: is a folder, not a key file")
        try:
            data = handle.read(validate.MAX_SECRET + 1)
        except OSError as exc:
            raise UsageError(f"{flag}: {path}: cannot be read: {exc.strerror}") from None
    if len(data) > validate.MAX_SECRET:
        raise UsageError(f"{flag}: {path}: too large for a key file (a PEM private key "
                         f"fits in {validate.MAX_SECRET} bytes)")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"{flag}: {path}: not a PEM text file (DER keys: convert with "
                         "openssl pkey -in KEY -out key.pem)") from None
    text = check_secret(text, flag, "key file", multiline=True)
    if warn is not None and stat.S_ISREG(mode) and mode & (stat.S_IRGRP | stat.S_IROTH):
        who = "other users" if mode & stat.S_IROTH else "its group"
        warn(f"{path} can be read by {who} (mode {stat.S_IMODE(mode):04o}); a private key "
             f"should be readable by you alone: chmod 600 {quote(str(path))}")
    return text


def _value(opts: ConfigureOptions, spec: SecretSpec) -> str | None:
    value: str | None = getattr(opts, spec.attr) if spec.value_flag else None
    return value


def _stdin(opts: ConfigureOptions, spec: SecretSpec) -> bool:
    return bool(getattr(opts, spec.attr + "_stdin"))
