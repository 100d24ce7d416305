"""`astra-auth doctor`: what on this machine decides whether astra-auth works.

Each check is a line in the manner of `gh auth status`: ✓ or ! or ✗, what was
found, and where something is wrong, the command or setting that fixes it.
`--json` gives the same checks.  Nothing here prints a secret: a variable is
named, never shown, and a proxy URL loses its user information.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from astra_auth.commands.options.doctor import DoctorOptions
from astra_auth.core.errors import AstraError, ExitCode, SilentError
from astra_auth.core.validate import secret_words
from astra_auth.text.safetext import dumps
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    from astra_auth.deps import Deps

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass
class Check:
    name: str  # "config_file", "keyring", "secret_variables", "proxy", "trust_store"
    status: str  # "ok", "warning" or "error"
    detail: str
    fix: str | None = None
    # What `detail` lists, one finding each: a line each at the terminal.
    items: tuple[str, ...] = ()

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "fix": self.fix}


def doctor(opts: DoctorOptions, deps: Deps) -> None:
    checks = [_config_file(deps)]
    keyring = _keyring(deps)
    checks.append(keyring)
    checks.append(_overrides(deps, keyring_usable=keyring.status == "ok"))
    checks.append(_proxies(deps))
    checks.append(_trust_store(deps))
    failed = any(c.status == "error" for c in checks)
    if opts.json:
        deps.io.write_out(dumps({"ok": not failed, "checks": [c.to_json() for c in checks]},
                                indent=2) + "\n")
    else:
        _print(checks, deps)
    if failed:
        raise SilentError(ExitCode.CONFIG)


def _print(checks: list[Check], deps: Deps) -> None:
    from rich.markup import escape

    marks = {"ok": "[green]✓[/green]", "warning": "[yellow]![/yellow]",
             "error": "[red]✗[/red]"}
    titles = {"config_file": "Config file", "keyring": "Keyring",
              "secret_variables": "Secrets from variables", "proxy": "Proxy",
              "trust_store": "Trust store"}
    for check in checks:
        if len(check.items) > 1:
            deps.io.out.print(f"{marks[check.status]} {titles[check.name]}:")
            for item in check.items:
                deps.io.out.print(f"  {escape(item)}", soft_wrap=True)
        else:
            deps.io.out.print(f"{marks[check.status]} {titles[check.name]}: "
                              f"{escape(check.detail)}", soft_wrap=True)
        if check.fix:
            # An ok check's advice is the next step, not a fix.
            deps.io.out.print(f"  - {'Next' if check.status == 'ok' else 'To fix'}: "
                              f"{escape(check.fix)}", soft_wrap=True)


def _config_file(deps: Deps) -> Check:
    path = deps.config_path
    if not path.exists():
        return Check("config_file", "ok", f"{path} (not created yet; no targets)",
                     "Add a target with: " + command("configure"))
    try:
        config = deps.config.load()
    except AstraError as exc:
        # The message names the file itself, mostly.
        detail = exc.message if str(path) in exc.message else f"{path}: {exc.message}"
        return Check("config_file", "error", detail, exc.hints[0] if exc.hints else None)
    mode = stat.S_IMODE(path.stat().st_mode)
    folder_mode = stat.S_IMODE(path.parent.stat().st_mode)
    detail = (f"{path} ({len(config.targets)} target{'s' if len(config.targets) != 1 else ''}; "
              f"mode {mode:04o}, folder {folder_mode:04o})")
    problems = []
    if mode & 0o077:
        problems.append(f"chmod 600 {path}")
    if folder_mode & 0o077:
        problems.append(f"chmod 700 {path.parent}")
    if problems:
        return Check("config_file", "warning", detail + ": others can read or change it",
                     "; ".join(problems))
    return Check("config_file", "ok", detail)


def _keyring(deps: Deps) -> Check:
    from astra_auth.core.errors import KeyringUnavailable

    backend = _backend_name()
    try:
        deps.secrets.get(":keyring-check")  # nobody's entry: names cannot start with ':'
    except KeyringUnavailable as exc:
        return Check("keyring", "error", f"{exc.message}; backend {backend}",
                     exc.hints[0] if exc.hints else None)
    except AstraError as exc:  # a bad ASTRA_AUTH_KEYRING_TIMEOUT
        return Check("keyring", "error", exc.message, exc.hints[0] if exc.hints else None)
    return Check("keyring", "ok", f"{backend}: unlocked and answering")


def _backend_name() -> str:
    """The keyring backend the keyring package chose, by class."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken backend is reported by the probe
        return "no backend"
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _overrides(deps: Deps, *, keyring_usable: bool) -> Check:
    """Every variable that supplies a secret now, and whether it hides a stored one."""
    from astra_auth.storage.secretstore import entry, env_source

    try:
        targets = deps.config.load().targets
    except AstraError:
        targets = {}
    found: list[str] = []
    hidden: list[str] = []
    for name in sorted(targets):
        target = targets[name]
        for kind in target.secret_kinds:
            variable = env_source(name, kind, deps.environ)
            if variable is None:
                continue
            what = secret_words(kind)
            stored = False
            if target.secrets_mode == "keyring" and keyring_usable:
                try:
                    stored = deps.secrets.get(entry(name, kind)) is not None
                except AstraError:
                    stored = False
            if stored:
                hidden.append(variable)
                found.append(f"{variable} overrides the stored {what} of {name}")
            else:
                found.append(f"{variable} supplies the {what} of {name}")
    if not found:
        return Check("secret_variables", "ok", "no ASTRA_AUTH_* variable supplies a secret")
    fix = None
    if hidden:
        fix = ("if the stored secret is the right one: unset "
               + " ".join(sorted(set(hidden))))
    return Check("secret_variables", "warning" if hidden else "ok", "; ".join(found), fix,
                 tuple(found))


def _proxies(deps: Deps) -> Check:
    lowered = {k.lower(): (k, v) for k, v in deps.environ.items()}
    found = []
    for name in PROXY_VARIABLES:
        if name.lower() in lowered and lowered[name.lower()][1]:
            key, value = lowered[name.lower()]
            found.append(f"{key}={value if name == 'NO_PROXY' else _without_userinfo(value)}")
    if not found:
        return Check("proxy", "ok", "none set: direct connections")
    return Check("proxy", "ok", ", ".join(found) + " (never used for loopback hosts)")


def _without_userinfo(url: str) -> str:
    """A proxy URL without its user name and password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "(not a URL)"


def _trust_store(deps: Deps) -> Check:
    try:
        import truststore  # noqa: F401 - its presence decides the store

        store = "the operating system's trust store (truststore)"
    except ImportError:  # pragma: no cover - truststore is a dependency
        store = "Python's default CA bundle"
    extra = []
    for name in TRUST_VARIABLES:
        value = deps.environ.get(name)
        if value:
            state = "" if os.path.exists(value) else ": does not exist"
            extra.append(f"{name}={value}{state}")
    detail = store + (", plus " + ", ".join(extra) if extra else "")
    if any(e.endswith("does not exist") for e in extra):
        return Check("trust_store", "error", detail,
                     "point it at a PEM file or folder that exists, or unset it")
    return Check("trust_store", "ok", detail + "; --ca-bundle PATH adds a CA for one run")
