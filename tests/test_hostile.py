"""Hostile input and faults: fuzzed flags, killed writers, broken networks, the leak guard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astra_auth.cli.app import main
from tests.conftest import LeakGuard, strip_ansi
from tests.fakes import CLIENT_SECRET, PASSWORD, MemoryStore, make_deps

CONTRACT_CODES = {0, 2, 3, 4, 5, 6}


def test_the_leak_guard_catches_a_leak_in_output_logs_and_files(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("guard-self-test")  # outside this test's own guard
    for place in ("output", "file"):
        guard = LeakGuard(root=tmp_path / place)
        (tmp_path / place).mkdir()
        if place == "output":
            guard.record("stderr", f"oops {CLIENT_SECRET}")
        else:
            (tmp_path / place / "config.toml").write_text(f'x = "{PASSWORD}"')
        with pytest.raises(AssertionError, match="found in"):
            guard.check()


# ---------------------------------------------------------------------------
# Fuzzing the CLI: any input ends in a contract exit code, never 1, never a traceback

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80
).filter(lambda s: "\x00" not in s)
urls = st.one_of(
    texts,
    st.builds(lambda scheme, user, host, port, path, frag: f"{scheme}://{user}{host}{port}/{path}{frag}",
              st.sampled_from(["https", "http", "ftp", "HTTPS", ""]),
              st.sampled_from(["", "user:pass@", "@", "u@"]),
              st.one_of(st.sampled_from(["idp.example.com", "127.0.0.1", "[::1]", "bücher.de",
                                         "xn--bcher-kva.de", "a b.com", "-bad-.com", "",
                                         "localhost", "1.2.3.4.5", "[::1"]), texts),
              st.sampled_from(["", ":443", ":0", ":99999", ":x", ":"]),
              texts, st.sampled_from(["", "#frag", "?q=1", "#"])),
    st.just("https://" + "a" * 5000 + ".com/"),
)
names = st.one_of(texts, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,70}", fullmatch=True))


def _run(tmp_path: Path, argv: list[str], stdin: str = "") -> tuple[int, str]:
    import contextlib
    import io

    config = tmp_path / f"c{abs(hash(tuple(argv))) % 10**9}" / "config.toml"
    deps = make_deps(config, secrets=MemoryStore(), stdin=stdin)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        deps.io.stdout, deps.io.stderr = out, err
        code = main(argv, make_deps=lambda path: deps)
    return code, strip_ansi(out.getvalue() + err.getvalue())


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(name=names, token_url=urls, client_id=texts, grant=st.sampled_from(
    ["client_credentials", "client-credentials", "password", "implicit", ""]),
    scope=st.one_of(st.none(), texts), username=st.one_of(st.none(), texts),
    client_auth=st.one_of(st.none(), st.sampled_from(["basic", "post", "jwt", ""])),
    secrets=st.one_of(st.none(), st.sampled_from(["keyring", "env", "file"])),
    url=st.one_of(st.none(), urls))
def test_fuzzed_configure_ends_in_a_contract_exit_code(tmp_path, name, token_url, client_id,
                                                      grant, scope, username, client_auth,
                                                      secrets, url):
    argv = ["configure", "--grant-type", grant, "--token-url", token_url, "--client-id",
            client_id, "--client-secret", CLIENT_SECRET, "--no-input"]
    for flag, value in (("--scope", scope), ("--username", username),
                        ("--client-auth", client_auth), ("--secrets", secrets), ("--url", url)):
        if value is not None:
            argv += [flag, value]
    argv += ["--", name]
    code, text = _run(tmp_path, argv)
    assert code in CONTRACT_CODES, text
    assert "Traceback" not in text and "internal error" not in text
    assert CLIENT_SECRET not in text


@FUZZ
@given(name=names, url=st.one_of(st.none(), urls),
       command=st.sampled_from(["add", "show", "remove", "list"]),
       json_flag=st.booleans())
def test_fuzzed_targets_commands_end_in_a_contract_exit_code(tmp_path, name, url, command,
                                                            json_flag):
    argv = ["targets", command]
    if command == "add" and url is not None:
        argv += ["--url", url]
    if command in ("show", "list") and json_flag:
        argv.append("--json")
    if command == "remove":
        argv.append("--yes")
    if command != "list":
        argv += ["--", name]
    code, text = _run(tmp_path, argv)
    assert code in CONTRACT_CODES, text
    assert "Traceback" not in text and "internal error" not in text


@FUZZ
@given(name=st.one_of(st.none(), names), timeout=st.one_of(st.none(), texts,
       st.sampled_from(["0", "-1", "1e9", "nan", "inf", "0.001"])),
       ca=st.one_of(st.none(), texts), flags=st.lists(
           st.sampled_from(["--all", "--json", "--verbose"]), unique=True))
def test_fuzzed_test_token_ends_in_a_contract_exit_code(tmp_path, name, timeout, ca, flags):
    argv = ["test-token", *flags]
    if timeout is not None:
        argv += ["--timeout", timeout]
    if ca is not None:
        argv += ["--ca-bundle", ca]
    if name is not None:
        argv += ["--", name]
    code, text = _run(tmp_path, argv)
    assert code in CONTRACT_CODES, text
    assert "Traceback" not in text and "internal error" not in text


# ---------------------------------------------------------------------------
# Config durability

WRITER = """
import sys
from pathlib import Path
from astra_auth.storage.config import ConfigStore, Target
store = ConfigStore(Path(sys.argv[1]))
i = 0
while True:
    with store.edit() as config:
        config.targets[f"t{i % 50}"] = Target(name=f"t{i % 50}", url=f"https://a{i}.example.com")
    i += 1
"""


def test_sigkill_during_saves_leaves_a_valid_file(tmp_path):
    path = tmp_path / "cfg" / "config.toml"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
    for round_number in range(12):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env)
        time.sleep(0.15 + 0.037 * round_number)  # land at different moments of a save
        child.send_signal(signal.SIGKILL)
        child.wait()
        if path.exists():
            data = tomllib.loads(path.read_text())  # old or new, never half
            assert data["version"] == 1
    assert path.exists()
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    # A killed writer may leave its temporary file; it is never the config.
    assert all(name.startswith(".config.toml.") for name in leftovers)
    kept = {p.name for p in path.parent.iterdir() if not p.name.endswith(".tmp")}
    assert "config.toml" in kept
    assert kept <= {"config.toml", "config.toml.lock"}


def test_twenty_concurrent_writers_lose_no_update(proc):
    names = [f"w{i:02d}" for i in range(20)]
    env = dict(proc.env, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    children = [
        subprocess.Popen([sys.executable, "-m", "astra_auth", "targets", "add", name],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in names
    ]
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    data = tomllib.loads(proc.config_path.read_text())
    assert sorted(data["targets"]) == names


# ---------------------------------------------------------------------------
# Network faults beyond test-token's own suite


def _add(cli, url):
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url", url,
        "--client-id", "c", "--client-secret", CLIENT_SECRET)


def test_huge_headers_are_bounded_and_classified(cli, faults):
    import json

    _add(cli, faults.url("huge-headers"))
    result = cli("test-token", "t", "--json", expect=5)
    error = json.loads(result.out)["error"]
    assert error["category"] == "connection_error"
    assert error["message"].endswith("RemoteProtocolError: Receive buffer too long.")


def test_truncated_chunked_body_is_classified(cli, faults):
    import json

    _add(cli, faults.url("chunked-truncated"))
    result = cli("test-token", "t", "--json", expect=5)
    error = json.loads(result.out)["error"]
    assert error["category"] == "connection_error"
    assert error["http_status"] == 200
    assert error["message"].startswith("The connection broke before the whole answer (HTTP 200) "
                                       "arrived: ")


def test_the_proxy_is_named_in_verbose_without_its_credentials():
    from astra_auth.net.transport import proxy_for

    env = {"HTTPS_PROXY": "http://proxyuser:proxypass@127.0.0.1:9/", "NO_PROXY": ""}
    assert proxy_for("https://idp.example.com/oauth/token", env) == "http://127.0.0.1:9/"


def test_a_loopback_token_url_never_goes_through_the_proxy(cli, faults):
    # Issue 15 finding 10: an http token URL on loopback would hand the client
    # secret to the proxy in clear.  The proxy here (port 9) would refuse.
    _add(cli, faults.url("no-token"))
    result = cli("test-token", "t", "--verbose", expect=6,
                 environ={"HTTP_PROXY": "http://proxyuser:proxypass@127.0.0.1:9/",
                          "ALL_PROXY": "http://127.0.0.1:9/", "NO_PROXY": ""})
    assert "t: invalid_token_response" in result.out  # the fault server answered, not port 9
    assert "not via the proxy from the environment: the token URL's host is loopback" \
        in result.err
    assert "proxypass" not in result.text


def test_a_one_letter_secret_does_not_garble_the_diagnosis(cli, idp):
    import json

    cli("configure", "t", "--grant-type", "password", "--username", "john.doe", "--token-url",
        idp.token_url, "--client-id", "scanner-app", "--secrets", "env")
    result = cli("test-token", "t", "--json", expect=4,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": "p"})
    data = json.loads(result.out)
    assert data["error"]["category"] == "invalid_grant"
    assert "Confirm the username and password" in " ".join(data["hints"])
