"""`astra-auth exec TARGET -- COMMAND`: the credential in COMMAND's environment,
everything else passed through."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from astra_auth.commands.exec import environment
from astra_auth.credentials.interface import Credential
from tests.fakes import CLIENT_SECRET, Clock


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------
# With a real API, in a separate process, as a user runs it


def test_curl_one_liner_calls_the_api_with_the_header_value(proc, steady_target):
    api = steady_target.api
    result = proc("exec", "steady", "--", "sh", "-c",
                  # The header from stdin (-H @-), so that the token is not in curl's
                  # argument list, where any local user can read it with ps.
                  'printf "%s: %s\\n" "$ASTRA_AUTH_HEADER_NAME" "$ASTRA_AUTH_HEADER_VALUE" '
                  '| curl -sS --fail -H @- "$API/things"',
                  env={"API": api.base})
    assert json.loads(result.out) == [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]
    assert result.err == ""
    [request] = api.log()
    assert request.valid and request.path == "/things"


def test_every_variable_is_set_and_none_is_printed(proc, steady_target):
    api = steady_target.api
    script = textwrap.dedent("""\
        printf '%s|' "$ASTRA_AUTH_HEADER_NAME" "$ASTRA_AUTH_LOCATION" \\
            "$ZAP_AUTH_HEADER" "$ZAP_AUTH_HEADER_SITE"
        [ "$ASTRA_AUTH_HEADER_VALUE" = "Bearer $ASTRA_AUTH_TOKEN" ] && printf 'value|'
        [ "$ZAP_AUTH_HEADER_VALUE" = "$ASTRA_AUTH_HEADER_VALUE" ] && printf 'zap-value|'
        printf '%s' "$ASTRA_AUTH_TOKEN" | sha256sum | cut -c1-64
    """)
    result = proc("exec", "steady", "--", "sh", "-c", script)
    [token] = api.issued()
    assert result.out == f"Authorization|header|Authorization|127.0.0.1|value|zap-value|" \
                         f"{sha256(token)}\n"
    assert result.err == ""  # the leak guard also checks that no output holds the token


def test_exit_code_is_the_commands(proc, steady_target):
    assert proc("exec", "steady", "--", "sh", "-c", "exit 42", expect=42).out == ""
    proc("exec", "steady", "--", "true", expect=0)


def test_command_not_found_is_127_and_not_executable_is_126(proc, steady_target, tmp_path):
    missing = proc("exec", "steady", "--", "no-such-command-3f9a", expect=127)
    assert missing.err == "astra-auth: no-such-command-3f9a: command not found\n"
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o644)
    denied = proc("exec", "steady", "--", str(script), expect=126)
    assert denied.err == f"astra-auth: {script}: cannot run it: permission denied\n"
    assert denied.out == ""


def test_a_command_killed_by_a_signal_exits_128_plus_its_number(proc, steady_target):
    proc("exec", "steady", "--", "sh", "-c", "kill -KILL $$", expect=128 + signal.SIGKILL)
    proc("exec", "steady", "--", "sh", "-c", "kill -TERM $$", expect=128 + signal.SIGTERM)


def test_stdin_and_stdout_pass_through(proc, steady_target):
    result = proc("exec", "steady", "--", "sh", "-c", "cat; echo err >&2",
                  input="line one\nline two\n")
    assert result.out == "line one\nline two\n"
    assert result.err == "err\n"


def test_the_commands_own_flags_after_the_double_dash_are_untouched(proc, steady_target):
    argv = ["--help", "--min-ttl", "5", "-x", "--", "--config", "a b"]
    result = proc("exec", "steady", "--", sys.executable, "-c",
                  "import json, sys; print(json.dumps(sys.argv[1:]))", *argv)
    assert json.loads(result.out) == argv


# COMMAND for the signal tests: it takes signals one at a time with their
# senders (a handler tells neither, and merges a second copy into the first),
# and stops after two.  The 60 s bound a failure only; nothing waits for them.
CHILD = textwrap.dedent("""\
    import os, signal, sys
    wanted = {signal.SIGHUP, signal.SIGINT, signal.SIGUSR1, signal.SIGTERM, signal.SIGWINCH}
    signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    print("ready", flush=True)
    for _ in range(2):
        info = signal.sigtimedwait(wanted, 60)
        if info is None:
            print("no signal within 60 s", flush=True)
            sys.exit(4)
        sender = ("astra-auth" if info.si_pid == os.getppid() else
                  "the terminal" if info.si_code > 0 else f"pid {info.si_pid}")
        print(f"got {info.si_signo} from {sender}", flush=True)
    sys.exit(3)
""")
# Sent once COMMAND has reported the first signal.  exec takes and passes on
# signals one at a time, so a second copy of the first, had it made one, would
# have reached COMMAND before this; COMMAND takes pending signals lowest number
# first, and SIGWINCH (28) is above the others.  So the second signal COMMAND
# reports is the marker exactly when the first came once.
MARKER = signal.SIGWINCH


def _signal_then_marker(env: dict[str, str], signum: int, leaks) -> tuple[str, str, str, int]:
    """exec CHILD; send it `signum`, then MARKER once COMMAND has reported it.

    COMMAND's two reports, astra-auth's stderr and its exit status.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "astra_auth", "exec", "steady", "--", sys.executable, "-c", CHILD],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    assert child.stdout is not None
    try:
        # COMMAND starts once exec's own signal handling is in place, and says
        # "ready" once its own is: from here on, a signal has nowhere to be lost.
        ready = child.stdout.readline()
        if ready != "ready\n":  # exec ended before COMMAND could start: say why
            child.kill()
            rest, err = child.communicate(timeout=120)
            leaks.record("exec stderr", err)
            pytest.fail(f"COMMAND did not start: exit {child.returncode}, stdout "
                        f"{ready + rest!r}, stderr {err!r}")
        child.send_signal(signum)
        first = child.stdout.readline()
        child.send_signal(MARKER)
        out, err = child.communicate(timeout=120)  # a bound for a hang, not a measure
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    leaks.record("exec stdout", first + out)
    leaks.record("exec stderr", err)
    return first, out, err, child.returncode


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT, signal.SIGUSR1, signal.SIGTERM])
def test_signals_sent_to_astra_auth_reach_the_command_once(proc, steady_target, leaks, signum):
    assert _signal_then_marker(proc.env, signum, leaks) == (
        f"got {int(signum)} from astra-auth\n", f"got {int(MARKER)} from astra-auth\n", "", 3)


def test_ctrl_c_at_a_terminal_reaches_the_command_exactly_once(proc, steady_target, leaks):
    # The terminal sends SIGINT to the whole foreground process group, the
    # command included; passing it on as well would make it two.
    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "astra_auth", "exec", "steady", "--",
                                           sys.executable, "-c", CHILD],
                          env=proc.env, encoding="utf-8", timeout=120)
    try:
        child.expect_exact("ready")
        child.sendintr()
        child.expect_exact(f"got {int(signal.SIGINT)} from the terminal")
        os.kill(child.pid, MARKER)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    leaks.record("terminal", child.before)
    assert child.before.split() == ["got", str(int(MARKER)), "from", "astra-auth"]
    assert child.exitstatus == 3


def test_signals_reach_the_command_after_a_keyring_call_was_left_hanging(proc, steady_target,
                                                                         leaks, tmp_path):
    # A keyring that never answers leaves its worker thread waiting for good,
    # and exec goes on without a token cache: COMMAND runs beside that thread.
    # (The target keeps its token cache in the keyring; its client secret still
    # comes from ASTRA_AUTH_CLIENT_SECRET, which wins over the keyring.)
    config = proc.config_path.read_text()
    assert config.count('secrets = "env"') == 1
    proc.config_path.write_text(config.replace('secrets = "env"', 'secrets = "keyring"'))
    log = tmp_path / "keyring-calls.log"
    env = dict(proc.env, PYTHON_KEYRING_BACKEND="tests.keyring_backends.Hanging",
               HANGING_KEYRING_LOG=str(log), ASTRA_AUTH_KEYRING_TIMEOUT="0.5")
    first, out, _, status = _signal_then_marker(env, signal.SIGTERM, leaks)
    assert log.read_text() == "get steady:token\n"  # the call left waiting
    assert (first, out, status) == (f"got {int(signal.SIGTERM)} from astra-auth\n",
                                    f"got {int(MARKER)} from astra-auth\n", 3)


# In exec's main thread while COMMAND runs, the signals it passes on are
# blocked, to be taken with sigwaitinfo, which names their sender.
SIGNAL_FOR_THE_COMMAND = textwrap.dedent("""\
    import os, signal
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    os.kill(os.getpid(), signal.SIGTERM)
    print("pending" if signal.SIGTERM in signal.sigpending() else "taken", flush=True)
""")
LEFT_WAITING = {
    "keyring": textwrap.dedent("""\
        from astra_auth.storage.secretstore import KeyringStore
        try:
            KeyringStore(timeout=0.1).get("api:token")
        except Exception as exc:
            print(type(exc).__name__, flush=True)
    """),
    "http": textwrap.dedent("""\
        import threading
        from astra_auth.net.transport import Deadline
        try:
            Deadline(0.05).run(threading.Event().wait)
        except Exception as exc:
            print(type(exc).__name__, flush=True)
    """),
}


@pytest.mark.parametrize(("worker", "error"), [("keyring", "KeyringUnavailable"),
                                               ("http", "ReadTimeout")])
def test_a_worker_left_waiting_never_takes_a_signal_meant_for_the_command(proc, worker, error):
    # A worker thread that could receive the signal would get it (the kernel
    # picks any thread that does not block it), and its default action would
    # end the whole process: astra-auth gone, COMMAND left running.
    done = subprocess.run(
        [sys.executable, "-c", LEFT_WAITING[worker] + SIGNAL_FOR_THE_COMMAND],
        env=dict(proc.env, PYTHON_KEYRING_BACKEND="tests.keyring_backends.Hanging"),
        capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{error}\npending\n", "")


ENV_DUMP = textwrap.dedent("""\
    import hashlib, json, os
    # Hashes, so that not even this output holds the token.
    print(json.dumps({name: hashlib.sha256(value.encode()).hexdigest()
                      for name, value in os.environ.items()
                      if name.startswith(("ASTRA_AUTH_", "ZAP_"))}))
""")


def test_the_command_gets_the_credential_and_none_of_the_secrets_behind_it(proc, steady_target):
    env = {
        "ASTRA_AUTH_STEADY_CLIENT_SECRET": CLIENT_SECRET,  # this target's, used for the grant
        "ASTRA_AUTH_OTHER_API_PASSWORD": "another-targets-password",
        "ASTRA_AUTH_API_KEY": "every-targets-api-key",
        "ASTRA_AUTH_SECRET_ACCESS_KEY": "every-targets-aws-key",
        # A parent `exec`'s, for a target whose key went in a query parameter.
        "ASTRA_AUTH_QUERY": "api_key=stale", "ASTRA_AUTH_LOCATION": "query",
        "ASTRA_AUTH_KEYRING_TIMEOUT": "7",
    }
    result = proc("exec", "steady", "--", sys.executable, "-c", ENV_DUMP, env=env)
    [token] = steady_target.api.issued()
    assert json.loads(result.out) == {name: sha256(value) for name, value in {
        "ASTRA_AUTH_KEYRING_TIMEOUT": "7", "ASTRA_AUTH_LOCATION": "header",
        "ASTRA_AUTH_TOKEN": token, "ASTRA_AUTH_HEADER_NAME": "Authorization",
        "ASTRA_AUTH_HEADER_VALUE": f"Bearer {token}", "ZAP_AUTH_HEADER": "Authorization",
        "ZAP_AUTH_HEADER_VALUE": f"Bearer {token}", "ZAP_AUTH_HEADER_SITE": "127.0.0.1",
    }.items()}


def test_no_credential_means_the_command_never_runs(proc, steady_target, tmp_path):
    marker = tmp_path / "ran"
    result = proc("exec", "steady", "--", "touch", str(marker), expect=4,
                  env={"ASTRA_AUTH_CLIENT_SECRET": "not-the-secret"})
    assert result.err.startswith("error: invalid_client: ")
    assert "→ " in result.err  # the usual hints
    assert not marker.exists()
    assert steady_target.api.log() == []


def test_no_command_is_a_usage_error_that_shows_how(proc, steady_target):
    result = proc("exec", "steady", expect=2)
    assert "error: exec: no COMMAND given" in result.err
    assert "astra-auth exec steady -- sh -c 'printf \"%s: %s\\n\" \"$ASTRA_AUTH_HEADER_NAME\" " \
           "\"$ASTRA_AUTH_HEADER_VALUE\" | curl -H @- https://api.example.com/'" in result.err


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--min-ttl", "-1", "--min-ttl: give a number of seconds between 0 and 86400"),
    ("--timeout", "0", "--timeout: give a number of seconds between 0 and 600"),
    ("--ca-bundle", "/nonexistent/ca.pem", "--ca-bundle: /nonexistent/ca.pem is not a file"),
])
def test_bad_options_are_usage_errors(proc, steady_target, flag, value, message):
    result = proc("exec", "steady", flag, value, "--", "true", expect=2)
    assert f"error: {message}" in result.err
    assert steady_target.api.log() == []


def test_unknown_target_is_a_configuration_error(proc):
    result = proc("exec", "nope", "--", "true", expect=3)
    assert "no target named 'nope'" in result.err


@pytest.mark.parametrize(("location", "expected"), [
    ("query", "query|set|unset|unset|"),
    ("cookie", "cookie|unset|Cookie|Cookie|api.example.com"),
    ("header", "header|unset|X-API-Key|X-API-Key|api.example.com"),
])
def test_api_keys_in_every_location(proc, leaks, location, expected):
    key = "ak/77=1"
    leaks.watch(key)
    name = {"query": "api_key", "cookie": "sid", "header": "X-API-Key"}[location]
    proc("configure", "keyed", "--auth-type", "api_key", "--key-name", name, "--key-location",
         location, "--url", "https://api.example.com", "--secrets", "env", "--no-input")
    script = textwrap.dedent("""\
        query=${ASTRA_AUTH_QUERY+set}
        printf '%s|%s|%s|%s|%s\\n' "$ASTRA_AUTH_LOCATION" "${query:-unset}" \\
            "${ASTRA_AUTH_HEADER_NAME-unset}" "${ZAP_AUTH_HEADER-unset}" "${ZAP_AUTH_HEADER_SITE-}"
        printf '%s' "$ASTRA_AUTH_TOKEN" | sha256sum | cut -c1-64
        printf '%s' "${ASTRA_AUTH_QUERY-}${ASTRA_AUTH_HEADER_VALUE-}" | sha256sum | cut -c1-64
    """)
    result = proc("exec", "keyed", "--", "sh", "-c", script, env={"ASTRA_AUTH_API_KEY": key})
    first, token_hash, value_hash = result.out.splitlines()
    assert first == expected
    assert token_hash == sha256(key)
    assert value_hash == sha256({"query": "api_key=ak%2F77%3D1", "cookie": "sid=ak/77=1",
                                 "header": key}[location])
    if location == "query":
        assert "sends its key as the query parameter 'api_key'" in result.err
    else:
        assert result.err == ""


# ---------------------------------------------------------------------------
# In-process: the token cache and --min-ttl, with a clock the test moves


def _setup_cached_target(cli, idp):
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--url", "https://api.example.com",
        "--client-secret-stdin", stdin=f"{CLIENT_SECRET}\n")


def test_a_cached_token_is_used_and_renewed_first_when_it_will_not_live_min_ttl(cli, idp):
    _setup_cached_target(cli, idp)
    clock = Clock()
    environ = {"PATH": os.environ["PATH"]}
    cli("exec", "api", "--", "true", clock=clock, environ=environ)
    after_first = idp.token_requests()
    clock.advance(2000)  # 1600 s left of 3600, before the 80 % renewal point
    cli("exec", "api", "--", "true", clock=clock, environ=environ)
    assert idp.token_requests() == after_first
    cli("exec", "api", "--min-ttl", "1800", "--", "true", clock=clock, environ=environ)
    assert idp.token_requests() == after_first + 1


# ---------------------------------------------------------------------------
# What goes into the environment, for every kind of credential


# What COMMAND keeps of astra-auth's environment: everything but the below.
KEPT = {"PATH": "/usr/bin", "HOME": "/home/u", "ASTRA_AUTH_CONFIG": "/etc/astra/a.toml",
        "ASTRA_AUTH_KEYRING_TIMEOUT": "5", "ASTRA_AUTH_TARGET": "api"}
# Every variable exec sets, as a parent `exec` (for a target whose credential
# was a header) left them.
STALE = {"ASTRA_AUTH_TOKEN": "stale", "ASTRA_AUTH_HEADER_NAME": "X-Stale",
         "ASTRA_AUTH_HEADER_VALUE": "Bearer stale", "ASTRA_AUTH_LOCATION": "header",
         "ASTRA_AUTH_QUERY": "stale=1", "ZAP_AUTH_HEADER": "X-Stale",
         "ZAP_AUTH_HEADER_VALUE": "Bearer stale", "ZAP_AUTH_HEADER_SITE": "old.example.com"}
# astra-auth's own secret variables: generic, for this target, and for others.
SECRET_KINDS = ("CLIENT_SECRET", "PASSWORD", "PRIVATE_KEY", "SIGNING_KEY", "BEARER_TOKEN",
                "API_KEY", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "DPOP_KEY")
SECRETS = {f"ASTRA_AUTH_{target}{kind}": f"secret-{i}-{j}"
           for i, target in enumerate(("", "API_", "PAYMENTS_API_V2_", "X_"))
           for j, kind in enumerate(SECRET_KINDS)}
BASE = {**KEPT, **STALE, **SECRETS}


def test_header_credential():
    credential = Credential("header", "Authorization", "Bearer tok-1", token="tok-1")
    env, notes = environment(BASE, credential, "https://api.example.com:8443/v1", "api")
    assert env == {**KEPT, "ASTRA_AUTH_LOCATION": "header",
                   "ASTRA_AUTH_TOKEN": "tok-1", "ASTRA_AUTH_HEADER_NAME": "Authorization",
                   "ASTRA_AUTH_HEADER_VALUE": "Bearer tok-1",
                   "ZAP_AUTH_HEADER": "Authorization", "ZAP_AUTH_HEADER_VALUE": "Bearer tok-1",
                   "ZAP_AUTH_HEADER_SITE": "api.example.com"}
    assert notes == []


def test_basic_credential_has_a_header_but_no_bare_token():
    credential = Credential("header", "Authorization", "Basic dTpw")
    env, _ = environment(BASE, credential, "https://api.example.com", "api")
    assert env == {**KEPT, "ASTRA_AUTH_LOCATION": "header",
                   "ASTRA_AUTH_HEADER_NAME": "Authorization",
                   "ASTRA_AUTH_HEADER_VALUE": "Basic dTpw",
                   "ZAP_AUTH_HEADER": "Authorization", "ZAP_AUTH_HEADER_VALUE": "Basic dTpw",
                   "ZAP_AUTH_HEADER_SITE": "api.example.com"}


def test_cookie_credential_is_the_cookie_header():
    credential = Credential("cookie", "session", "k-1", token="k-1")
    env, notes = environment(BASE, credential, "https://api.example.com", "api")
    assert env == {**KEPT, "ASTRA_AUTH_LOCATION": "cookie", "ASTRA_AUTH_TOKEN": "k-1",
                   "ASTRA_AUTH_HEADER_NAME": "Cookie", "ASTRA_AUTH_HEADER_VALUE": "session=k-1",
                   "ZAP_AUTH_HEADER": "Cookie", "ZAP_AUTH_HEADER_VALUE": "session=k-1",
                   "ZAP_AUTH_HEADER_SITE": "api.example.com"}
    assert notes == []


def test_query_credential_has_no_header_variables_and_says_why():
    credential = Credential("query", "api key", "k/1&2", token="k/1&2")
    env, notes = environment(BASE, credential, "https://api.example.com", "keyed")
    # The parent's header (and ZAP's) would send a credential that no longer applies.
    assert env == {**KEPT, "ASTRA_AUTH_LOCATION": "query",
                   "ASTRA_AUTH_TOKEN": "k/1&2", "ASTRA_AUTH_QUERY": "api%20key=k%2F1%262"}
    assert notes == [
        "target 'keyed' sends its key as the query parameter 'api key': ASTRA_AUTH_QUERY "
        "holds it, and no header variable is set (ZAP's included); `astra-auth proxy` adds "
        "it to every request instead."]


def test_without_a_url_zap_variables_are_not_set():
    credential = Credential("header", "Authorization", "Bearer tok-1", token="tok-1")
    env, notes = environment(BASE, credential, None, "api")
    assert env == {**KEPT, "ASTRA_AUTH_LOCATION": "header", "ASTRA_AUTH_TOKEN": "tok-1",
                   "ASTRA_AUTH_HEADER_NAME": "Authorization",
                   "ASTRA_AUTH_HEADER_VALUE": "Bearer tok-1"}
    assert notes == [
        "target 'api' has no API URL, so ZAP_AUTH_HEADER* are not set (without "
        "ZAP_AUTH_HEADER_SITE, ZAP would send the credential to every site). Set it with: "
        "astra-auth configure api --url URL --no-input"]


def test_a_token_that_cannot_live_min_ttl_even_when_new_is_said_on_stderr(cli, idp):
    cli("configure", "brief", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "short-lived", "--url", "https://api.example.com",
        "--client-secret-stdin", stdin=f"{CLIENT_SECRET}\n")
    result = cli("exec", "brief", "--", "true", clock=Clock(),
                 environ={"PATH": os.environ["PATH"]})
    assert result.err == (
        "astra-auth: the credential expires in 30 s, sooner than --min-ttl 60 s: a run longer "
        "than that needs `astra-auth proxy brief`, which renews.\n")
