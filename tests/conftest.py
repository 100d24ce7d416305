"""Shared fixtures: in-process and subprocess runners, the leak guard, the real keyring."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from astra_auth.cli.app import main
from tests.fakes import ALL_SECRETS, MemoryStore, make_deps

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
T = TypeVar("T")
OIDC_FOLDER = Path(__file__).resolve().parent / "oidc"


def require(found: T | str, what: str) -> T:
    """`found`, a real part of the tests, or, where it is missing here, why (a
    str): then skip the test, but fail it under CI, where a missing install
    step must not hide."""
    if isinstance(found, str):
        if IN_CI:
            pytest.fail(f"CI must test against {what}, but {found}")
        pytest.skip(found)
    return found


@contextlib.contextmanager
def node_script(script: str, env: dict[str, str], *, lines: int = 1,
                address: str = "http://127.0.0.1:") -> Iterator[list[str] | str]:
    """tests/oidc/`script` running on Node.js: the first `lines` it prints
    (its address first), or why it cannot run here; stopped at the end."""
    import shutil

    if shutil.which("node") is None:
        yield "Node.js is not installed (tests/run.sh installs it where it can)"
        return
    if not (OIDC_FOLDER / "node_modules" / "oidc-provider").is_dir():
        yield "oidc-provider is not installed (tests/run.sh runs npm ci in tests/oidc)"
        return
    child = subprocess.Popen(["node", str(OIDC_FOLDER / script)], cwd=OIDC_FOLDER,
                             env=dict(os.environ, **env), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    try:
        printed = [child.stdout.readline().strip() for _ in range(lines)]
        if printed[0].startswith(address):
            yield printed
        else:
            yield f"{script} did not start: {printed[0]!r}"
    finally:
        child.terminate()
        child.wait(timeout=10)


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


# What rich itself writes at a terminal: colours (SGR), the spinner's cursor
# hiding and line erasing.  Any other ESC, C1 or bidi control in an output came
# from outside and was not neutralised.
RICH_SEQUENCES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|\x1b\[2K|\x1b\[[0-9]*[AGK]|\r")
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                         "\u2066-\u2069]")
RUN = 8  # any run of this many characters of a secret is a leak
# A private key's PEM block, whoever's key it is: its header followed
# by key material.  The header alone, as a format named in a message, is not one.
PRIVATE_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\s*[A-Za-z0-9+/=]{40}")


def secret_forms(secret: str) -> set[str]:
    """Every form of `secret` the guard looks for, written independently of the
    product's redactor so that the two cannot share a mistake."""
    import base64
    import html
    from urllib.parse import quote, quote_plus

    data = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), html.escape(secret),
             base64.b64encode(data).decode().rstrip("="),
             base64.urlsafe_b64encode(data).decode().rstrip("="), data.hex(), data.hex().upper()}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in set(forms)}
    forms |= {secret[i:i + RUN] for i in range(len(secret) - RUN + 1)}
    return {f for f in forms if len(f) >= min(RUN, len(secret))}


@dataclass
class LeakGuard:
    """Knows every secret a test placed and every output it saw.

    At teardown it fails the test if a secret appears in any recorded output or
    in any file under the test's temporary folder (the config folder included):
    as it is, in any encoded form (`secret_forms`) or as any 8-character run;
    and if an output holds a raw ESC, C1 or bidi control character.
    """

    root: Path
    secrets: set[str] = field(default_factory=lambda: set(ALL_SECRETS))
    outputs: list[tuple[str, str]] = field(default_factory=list)

    def watch(self, *secrets: str) -> None:
        self.secrets.update(s for s in secrets if s)

    def record(self, where: str, text: str) -> None:
        self.outputs.append((where, text))

    def check(self) -> None:
        problems = []
        forms = {form: secret for secret in self.secrets for form in secret_forms(secret)}
        for where, text in self.outputs:
            for form, secret in forms.items():
                if form in text:
                    problems.append(f"secret {secret[:4]}… found in {where} (as {form[:4]}…)")
            if PRIVATE_PEM.search(text):
                problems.append(f"a PEM private key block in {where}")
            control = RAW_CONTROL.search(RICH_SEQUENCES.sub("", text))
            if control is not None:
                problems.append(f"raw control character {control.group()!r} in {where}")
        for path in self.root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                if PRIVATE_PEM.search(data.decode("latin-1")):
                    problems.append(f"a PEM private key block in file {path}")
                for form, secret in forms.items():
                    if form.encode() in data:
                        problems.append(f"secret {secret[:4]}… found in file {path}")
        assert not problems, "\n".join(sorted(set(problems)))


@pytest.fixture(autouse=True)
def leaks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[LeakGuard]:
    import logging

    caplog.set_level(logging.DEBUG)  # every library's debug logging, httpx's included
    guard = LeakGuard(root=tmp_path)
    yield guard
    # Every phase's records: `caplog.records` here would be the teardown's alone.
    records = [r for when in ("setup", "call") for r in caplog.get_records(when)]
    records += caplog.records
    guard.record("log records", "\n".join(
        f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in records
        if _ours_to_check(r)))
    guard.check()


# The test servers run in this process; what they log about the secrets they
# receive is theirs (Authlib logs the client it authenticated), not the tool's.
_SERVER_LOGGERS = ("authlib", "werkzeug")


def _ours_to_check(record: logging.LogRecord) -> bool:
    """Every record of astra-auth's own, and every INFO or louder record of the
    libraries it uses (httpx logs each request's URL at INFO).  httpcore's DEBUG
    wire traces, which a user must switch on by hand, print raw response
    headers; they are not held to the promise."""
    if record.name.startswith(_SERVER_LOGGERS):
        return False
    return record.name.startswith("astra_auth") or record.levelno >= logging.INFO


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "astra-auth" / "config.toml"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


class Cli:
    """Runs the real `main()` in-process with injected dependencies."""

    def __init__(self, capsys: pytest.CaptureFixture[str], config_path: Path,
                 store: MemoryStore, leaks: LeakGuard) -> None:
        self.capsys = capsys
        self.config_path = config_path
        self.store = store
        self.leaks = leaks

    def __call__(self, *args: str, expect: int | None = 0, token_on_stdout: bool = False,
                 **deps_kwargs: object) -> Result:
        """Run the CLI.  `token_on_stdout`: stdout is `astra-auth token`'s, the one
        output allowed to hold a token, so only stderr goes to the leak guard."""
        deps_kwargs.setdefault("secrets", self.store)
        prompter = deps_kwargs.get("prompter")
        deps = make_deps(self.config_path, **deps_kwargs)  # type: ignore[arg-type]
        self.capsys.readouterr()
        code = main(list(args), make_deps=lambda path: _with_path(deps, path))
        captured = self.capsys.readouterr()
        result = Result(code, strip_ansi(captured.out), strip_ansi(captured.err))
        if not token_on_stdout:
            self.leaks.record(f"stdout of {args}", captured.out)
        self.leaks.record(f"stderr of {args}", captured.err)
        if prompter is not None:
            prompter.verify()  # type: ignore[attr-defined]
        if expect is not None:
            assert code == expect, f"exit {code}, expected {expect}\n{result.text}"
        assert "Traceback" not in result.text
        return result


def _with_path(deps, path):  # type: ignore[no-untyped-def]
    if path is not None:  # --config, as Deps.system would see it
        deps.config_path = path
        deps.config_explicit = True
    return deps


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], config_path: Path, store: MemoryStore,
        leaks: LeakGuard) -> Cli:
    return Cli(capsys, config_path, store, leaks)


class Proc:
    """Runs `python -m astra_auth` as a separate process, as a user or CI would."""

    def __init__(self, tmp_path: Path, leaks: LeakGuard) -> None:
        self.home = tmp_path / "home"
        self.home.mkdir(exist_ok=True)
        self.config_home = tmp_path / "config"
        self.leaks = leaks
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith("ASTRA_AUTH_") and k not in ("CI", "COLUMNS", "LINES")
        }
        self.env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.config_home),
            PYTHONPATH=str(Path(__file__).resolve().parent.parent),
            NO_COLOR="1",
        )

    @property
    def config_path(self) -> Path:
        return self.config_home / "astra-auth" / "config.toml"

    def __call__(self, *args: str, input: str | None = None, expect: int | None = 0,
                 env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        full_env = dict(self.env, **(env or {}))
        done = subprocess.run(
            [sys.executable, "-m", "astra_auth", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )
        result = Result(done.returncode, done.stdout, done.stderr)
        self.leaks.record(f"stdout of {args}", done.stdout)
        self.leaks.record(f"stderr of {args}", done.stderr)
        if expect is not None:
            assert done.returncode == expect, (
                f"exit {done.returncode}, expected {expect}\n{result.text}"
            )
        assert "Traceback" not in result.text, result.text
        return result


@pytest.fixture
def proc(tmp_path: Path, leaks: LeakGuard) -> Proc:
    return Proc(tmp_path, leaks)


# ---------------------------------------------------------------------------
# The real OS keyring


@dataclass
class RealKeyring:
    """gnome-keyring's Secret Service, reached through the keyring package."""

    created: list[str] = field(default_factory=list)

    def name(self, prefix: str = "t") -> str:
        """A target name unique to this test, so tests never see each other's entries."""
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.created.append(name)
        return name

    def get(self, key: str) -> str | None:
        import keyring

        return keyring.get_password("astra-auth", key)

    def cleanup(self) -> None:
        import keyring
        import keyring.errors

        for name in self.created:
            for kind in ("client_secret", "password", "private_key", "token", "refresh_token"):
                try:
                    keyring.delete_password("astra-auth", f"{name}:{kind}")
                except keyring.errors.PasswordDeleteError:
                    pass


def _real_keyring_problem() -> str | None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "no D-Bus session bus (run the suite through tests/run.sh)"
    try:
        import keyring
        from keyring.backends import SecretService

        backend = keyring.get_keyring()
        if not isinstance(backend, SecretService.Keyring):
            return f"keyring chose {type(backend).__module__}, not the Secret Service"
        probe = f"probe-{uuid.uuid4().hex}"
        keyring.set_password("astra-auth-probe", probe, "x")
        ok = keyring.get_password("astra-auth-probe", probe) == "x"
        keyring.delete_password("astra-auth-probe", probe)
        return None if ok else "the Secret Service did not return what was stored"
    except Exception as exc:  # noqa: BLE001 - reported as the reason to skip
        return f"the Secret Service is not usable: {type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def _keyring_problem() -> str | None:
    return _real_keyring_problem()


@pytest.fixture
def real_keyring(_keyring_problem: str | None) -> Iterator[RealKeyring]:
    require(_keyring_problem, "the real keyring")
    kr = RealKeyring()
    yield kr
    kr.cleanup()


# ---------------------------------------------------------------------------
# Servers on loopback


@pytest.fixture(scope="session")
def _idp_server():
    from tests.servers.authserver import RunningServer

    server = RunningServer()
    yield server
    server.stop()


@pytest.fixture
def idp(_idp_server, leaks):  # type: ignore[no-untyped-def]
    """Authlib's authorization server, shared by the whole session.

    At the end of each test, every access and refresh token it ever issued is
    handed to the leak guard, so no output may contain one.
    """
    yield _idp_server
    with _idp_server.state.lock:
        leaks.watch(*_idp_server.state.issued, *_idp_server.state.refresh_tokens)


@pytest.fixture(scope="session")
def typed_api():  # type: ignore[no-untyped-def]
    """An API that checks each auth type's credential exactly (tests/servers/typed_api.py)."""
    from tests.servers.typed_api import TypedApi

    server = TypedApi()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def faults():
    from tests.servers.faults import FaultServer

    server = FaultServer()
    yield server
    server.stop()


@dataclass
class TlsServer:
    token_url: str
    ca_file: Path
    stop: object


def _tls_idp(tmp_path_factory, names: list[str]):  # type: ignore[no-untyped-def]
    import ssl
    import threading

    import trustme
    from werkzeug.serving import make_server

    from tests.servers.authserver import build_app

    ca = trustme.CA()
    cert = ca.issue_cert(*names)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    app, _state = build_app()
    httpd = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ctx)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return TlsServer(f"https://127.0.0.1:{httpd.server_port}/oauth/token", ca_file,
                     httpd.shutdown)


@pytest.fixture(scope="session")
def tls_idp(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = _tls_idp(tmp_path_factory, ["127.0.0.1", "localhost"])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_idp_wrong_name(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = _tls_idp(tmp_path_factory, ["idp.other.example"])
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test: its socket
    is bound, so no other process can take the port, and never listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture
def proxies(proc, leaks):  # type: ignore[no-untyped-def]
    """Starts `astra-auth proxy` (tests/proxies.py); stops them all at the end."""
    from tests.proxies import Proxies

    running = Proxies(proc, leaks)
    yield running
    running.close()


# ---------------------------------------------------------------------------
# A real OpenID provider: panva's oidc-provider on Node.js, with discovery

OIDC_SECRET = "oidc-S3cret:%2B+/x-77"  # client_secret is ASCII by RFC 6749 Appendix A


@dataclass
class OidcProvider:
    issuer: str
    token_url: str
    secret: str = OIDC_SECRET


@pytest.fixture(scope="session")
def _oidc_process() -> Iterator[OidcProvider | str]:
    with node_script("provider.mjs", {"OIDC_CLIENT_SECRET": OIDC_SECRET}) as started:
        yield started if isinstance(started, str) else OidcProvider(started[0],
                                                                    f"{started[0]}/token")


@pytest.fixture
def oidc(_oidc_process, leaks):  # type: ignore[no-untyped-def]
    provider = require(_oidc_process, "the real OpenID provider")
    leaks.watch(OIDC_SECRET)
    return provider


# ---------------------------------------------------------------------------
# The scanner tests' protected API (tokens that live 3 seconds) and its target


@dataclass
class ScanTarget:
    """A target configured (with `--secrets env`) for the scanner test API."""

    name: str
    api: object  # tests.servers.scanapi.ScanApi


@pytest.fixture
def scan_api(leaks):  # type: ignore[no-untyped-def]
    """The protected API; every token it issued goes to the leak guard."""
    from tests.servers.scanapi import ScanApi

    api = ScanApi()
    yield api
    api.stop()
    leaks.watch(*api.issued())


def add_scan_target(cli, proc, api, name: str, client_id: str  # type: ignore[no-untyped-def]
                    ) -> ScanTarget:
    """Configures the target in this process (`cli` writes the config file
    `proc` reads) and gives `proc`'s processes its secret."""
    from tests.fakes import CLIENT_SECRET

    proc.env["ASTRA_AUTH_CLIENT_SECRET"] = CLIENT_SECRET
    cli("configure", name, "--grant-type", "client_credentials", "--token-url", api.token_url,
        "--client-id", client_id, "--secrets", "env", "--url", api.base, "--no-input",
        environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    return ScanTarget(name, api)


@pytest.fixture
def short_target(cli, proc, scan_api) -> ScanTarget:  # type: ignore[no-untyped-def]
    """Tokens that live 3 seconds: renewal under a long scan."""
    return add_scan_target(cli, proc, scan_api, "short", "scan-short")


@pytest.fixture
def steady_target(cli, proc, scan_api) -> ScanTarget:  # type: ignore[no-untyped-def]
    """Tokens that outlive the test, for tests about something other than expiry."""
    return add_scan_target(cli, proc, scan_api, "steady", "scan-steady")


# ---------------------------------------------------------------------------
# oidc-provider issuing DPoP-bound tokens (tests/oidc/dpop.mjs)

DPOP_SECRET = "dpop-S3cret:%2B+/x-91"
DPOP_RESOURCE = "urn:astra-auth:dpop-api"


@dataclass
class DpopProvider:
    issuer: str

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"


@pytest.fixture(scope="session")
def _dpop_process() -> Iterator[DpopProvider | str]:
    with node_script("dpop.mjs", {"OIDC_CLIENT_SECRET": DPOP_SECRET}) as started:
        yield started if isinstance(started, str) else DpopProvider(started[0])


@pytest.fixture
def dpop_provider(_dpop_process, leaks):  # type: ignore[no-untyped-def]
    """oidc-provider with features.dPoP and requireNonce, client `dpop-scanner`."""
    provider = require(_dpop_process, "the real OpenID provider (DPoP)")
    leaks.watch(DPOP_SECRET)
    return provider
