"""Two of the issue's reproductions, through a real proxy process and each
other consumer.

- A credential with CR LF (a pasted CI secret) split the request to the API;
  a value outside Latin-1 made every request a 500; `test-token` said it was
  fine.  Now the proxy refuses to start (exit 3, `invalid_key`), before it
  listens, and every other consumer refuses it the same way.
- With the token endpoint answering 500, every scanner request made a token
  request, one after another, and logged a line.  Now requests share one
  token request and its failure, and back off; the log says it once.  The
  same back-off holds in `auth_for` and the Schemathesis provider.
"""

# `proxies` comes from tests/conftest.py, the other fixtures from tests/test_proxy.py;
# pytest injects them by name.
# ruff: noqa: F811

from __future__ import annotations

import concurrent.futures
import json
import time

import httpx
import pytest

from astra_auth.core.errors import AstraError
from tests.fakes import CLIENT_SECRET, make_deps, unique
from tests.proxies import client
from tests.test_proxy import (  # noqa: F401 - fixtures
    _quiet_test_idp,
    configure,
    upstream,
)

# ---------------------------------------------------------------------------
# A credential that cannot go into a header


@pytest.mark.parametrize(("kind", "value", "problem"), [
    ("bearer", "tok-5f9e2a7c1d\r\nX-Evil: injected", "holds a line break"),
    ("bearer", "tok-5f9e2a7c1d\r\n", "holds a line break"),
    ("bearer", "tok-5f9e2a7c1d€", "holds a character outside Latin-1 (U+20AC)"),
    ("api_key", "key-5f9e2a7c1d\n", "holds a line break"),
])
def test_a_credential_that_would_split_the_request_stops_the_proxy_before_it_listens(
        proc, upstream, leaks, kind, value, problem):
    leaks.watch(value.strip())
    args = ["configure", "api", "--auth-type", kind, "--secrets", "env", "--url",
            upstream.url, "--no-input"]
    if kind == "api_key":
        args += ["--key-name", "X-API-Key"]
    proc(*args)
    variable = "ASTRA_AUTH_API_BEARER_TOKEN" if kind == "bearer" else "ASTRA_AUTH_API_API_KEY"
    result = proc("proxy", "api=0", expect=3, env={variable: value})
    assert result.out == ""  # no address: nothing was served
    what = "bearer token" if kind == "bearer" else "API key"
    assert f"invalid_key: The {what} of api {problem}, so it cannot go into an HTTP " \
           "header; it is not sent." in result.err
    assert f"Set {variable} again without it" in result.err
    assert upstream.state.seen == []


def test_a_missing_secret_does_not_stop_the_proxy(proxies, proc, upstream):
    proc("configure", "api", "--auth-type", "bearer", "--secrets", "env", "--url",
         upstream.url, "--no-input")
    running = proxies.start("api=0")
    with client() as c:
        answer = c.get(running.url("api"))
    assert answer.status_code == 502
    assert answer.json()["error"]["category"] == "missing_secret"
    assert answer.json()["error"]["hint"] == (
        "This target reads its bearer token from the environment: set "
        "ASTRA_AUTH_API_BEARER_TOKEN where astra-auth runs (ASTRA_AUTH_BEARER_TOKEN works too, "
        "but applies to every target).")
    assert upstream.state.seen == []


# ---------------------------------------------------------------------------
# The header check, as each consumer meets it

CRLF_TOKEN = "tok-1b2c3d4e\r\nX-Evil: injected"


def _bearer(cli, url: str = "https://api.example.com") -> None:  # type: ignore[no-untyped-def]
    cli("configure", "api", "--auth-type", "bearer", "--secrets", "env", "--url", url,
        "--no-input")


def test_test_token_refuses_a_bearer_token_that_would_split_the_request(cli, leaks):
    leaks.watch("tok-1b2c3d4e")
    _bearer(cli)
    result = cli("test-token", "api", "--json", "--no-probe", expect=3,
                 environ={"ASTRA_AUTH_API_BEARER_TOKEN": CRLF_TOKEN})
    report = json.loads(result.out)
    assert report["ok"] is False
    assert report["error"]["category"] == "invalid_key"
    assert report["hints"] == ["Set ASTRA_AUTH_API_BEARER_TOKEN again without it (a secret "
                               "pasted into a CI variable often ends in a line break)."]


def test_token_and_exec_refuse_it_as_invalid_key(cli, leaks):
    leaks.watch("tok-1b2c3d4e")
    _bearer(cli)
    environ = {"ASTRA_AUTH_API_BEARER_TOKEN": CRLF_TOKEN, "PATH": "/usr/bin:/bin"}
    for args in (("token", "api", "--format", "header"), ("token", "api", "--format", "json"),
                 ("exec", "api", "--", "true")):
        result = cli(*args, expect=3, environ=environ)
        assert result.out == ""
        assert "invalid_key: The bearer token of api holds a line break" in result.err
        assert ("Set ASTRA_AUTH_API_BEARER_TOKEN again without it (a secret pasted into a CI "
                "variable often ends in a line break).") in result.err


def test_auth_for_refuses_it_before_any_request(cli, leaks):
    from astra_auth.credentials.interface import SourceSettings, open_source
    from astra_auth.integrations.httpx_auth import AstraAuth
    from astra_auth.storage.lookup import load_target

    leaks.watch("tok-1b2c3d4e")
    _bearer(cli)
    deps = make_deps(cli.config_path, environ={"ASTRA_AUTH_API_BEARER_TOKEN": "tok\u2028x"})
    target = load_target(deps, "api")
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    auth = AstraAuth(open_source(target, deps, SourceSettings()), "https://api.example.com")
    with httpx.Client(transport=transport, auth=auth) as client, \
            pytest.raises(AstraError) as caught:
        client.get("https://api.example.com/x")
    assert caught.value.category == "invalid_key"  # type: ignore[attr-defined]
    assert caught.value.hints == ["Set ASTRA_AUTH_API_BEARER_TOKEN again without it (a secret "
                                  "pasted into a CI variable often ends in a line break)."]
    assert sent == []


def test_a_refused_client_tries_the_other_authentication_method_once_not_every_time(
        cli, idp):
    """With invalid_client, each attempt used to try both methods: two refused
    logins per renewal, during a whole outage.  Now the other is tried once."""
    from astra_auth.core.failure import CredentialError
    from astra_auth.credentials.oauth2 import TokenSource
    from astra_auth.storage.lookup import load_target

    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env", "--no-input")
    deps = make_deps(cli.config_path, environ={"ASTRA_AUTH_CLIENT_SECRET": "wrong-secret-1"})
    source = TokenSource(load_target(deps, "api"), deps)
    before = idp.token_requests()
    for _ in range(3):
        with pytest.raises(CredentialError) as caught:
            source.get()
        assert caught.value.category == "invalid_client"
    assert idp.token_requests() - before == 4  # basic and post once, then basic alone


# ---------------------------------------------------------------------------
# One token request per outage


@pytest.mark.slow
def test_an_outage_is_one_token_request_and_one_log_line_not_one_per_request(
        cli, proxies, proc, faults, upstream):
    configure(cli, "down", f"{faults.base}/server", upstream.url)
    before = _asked(faults)
    running = proxies.start("down=0")
    url = running.url("down", "/echo/scan")

    def scan(_: int) -> tuple[int, str]:
        with client() as c:
            answer = c.get(url)
            return answer.status_code, answer.json()["error"]["category"]

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        concurrent_answers = list(pool.map(scan, range(50)))
    sequential_answers = [scan(i) for i in range(129)]
    assert concurrent_answers == [(502, "server_error")] * 50
    assert sequential_answers == [(502, "server_error")] * 129
    # Before: 1 + 50 + 129 token requests.  Now one, and one more per back-off
    # period (1, 2, 4, 8, 16 s): six at most in a run shorter than 31 s.
    assert 1 <= _asked(faults) - before <= 6
    assert upstream.state.seen == []
    assert running.stop() == 0
    assert running.stderr.count("down: no token: server_error") == 1


def test_an_outage_at_renewal_time_keeps_the_current_token_in_use(cli, proxies, proc, faults,
                                                                  upstream, leaks):
    """A 6-second token is due for renewal after 3 s (half its lifetime); the
    provider is down by then, and the token still has seconds to live."""
    path = unique()
    token = "at-kept-4f1c9e27b5"
    leaks.watch(token)
    faults.answer(path, {"access_token": token, "token_type": "Bearer", "expires_in": 6})
    configure(cli, "kept", faults.url(path), upstream.url)
    started = time.monotonic()  # the token is issued after this
    running = proxies.start("kept=0")
    url = running.url("kept", "/echo/kept")
    with client() as c:
        assert c.get(url).status_code == 200
        due = time.monotonic() + 3.2  # the token was issued before this
        faults.answer(path, {"error": "temporarily_unavailable"}, status=503)
        time.sleep(max(0.0, due - time.monotonic()))
        assert time.monotonic() < started + 6, "too slow a start to test this"
        kept = c.get(url)
    assert kept.status_code == 200
    assert [seen.header("Authorization") for seen in upstream.state.seen] == [
        f"Bearer {token}"] * 2
    assert len(faults.requests_to(path)) == 2  # the renewal was tried, and failed
    assert running.stop() == 0
    assert running.stderr.count("kept: no token: server_error") == 1
    assert "(the current credential stays in use until it expires, in " in running.stderr


def test_a_refused_client_is_not_locked_out_by_the_proxy(cli, proxies, proc, idp, upstream):
    """invalid_client: before, every request tried both client-authentication
    methods; now the other one is tried once, and the back-off holds."""
    configure(cli, "api", idp.token_url, upstream.url)
    running = proxies.start("api=0", env={"ASTRA_AUTH_CLIENT_SECRET": "wrong-secret-0"})
    before = idp.token_requests()
    with client() as c:
        answers = [c.get(running.url("api")) for _ in range(40)]
    assert {a.json()["error"]["category"] for a in answers} == {"invalid_client"}
    # Two for the first attempt (basic, then post), one per back-off period after.
    assert idp.token_requests() - before <= 7
    assert running.stop() == 0
    assert running.stderr.count("api: no token: invalid_client") == 1


def _asked(faults) -> int:  # type: ignore[no-untyped-def]
    """Token requests the failing endpoint has had."""
    return len([path for path, _, _ in faults.log if path == "/server"])


def _down_source(cli, faults):  # type: ignore[no-untyped-def]
    from astra_auth.credentials.interface import SourceSettings, open_source
    from astra_auth.storage.lookup import load_target

    cli("configure", "down", "--grant-type", "client_credentials", "--token-url",
        f"{faults.base}/server", "--client-id", "scanner-app", "--secrets", "env",
        "--url", "https://api.example.com", "--no-input")
    # A clock that does not move: every request falls in the first back-off.
    deps = make_deps(cli.config_path, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET},
                     monotonic=lambda: 1000.0)
    return open_source(load_target(deps, "down"), deps, SourceSettings())


def test_auth_for_shares_the_back_off(cli, faults):
    from astra_auth.integrations.httpx_auth import AstraAuth

    auth = AstraAuth(_down_source(cli, faults), "https://api.example.com")
    before = _asked(faults)
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    categories = []
    with httpx.Client(transport=transport, auth=auth) as api:
        for _ in range(20):
            with pytest.raises(AstraError) as caught:
                api.get("https://api.example.com/x")
            categories.append(caught.value.category)  # type: ignore[attr-defined]
    assert categories == ["server_error"] * 20
    assert _asked(faults) - before == 1
    assert sent == []


def test_the_schemathesis_provider_shares_the_back_off(cli, faults):
    from astra_auth.integrations.schemathesis import _Binding

    binding = _Binding("down", "https://api.example.com", _down_source(cli, faults))
    before = _asked(faults)
    failures = 0
    for _ in range(20):
        try:
            binding.credential_for("https://api.example.com/")
        except Exception as exc:  # noqa: BLE001 - Schemathesis's own error type
            assert "server_error" in str(exc)
            failures += 1
    assert failures == 20
    assert _asked(faults) - before == 1


# ---------------------------------------------------------------------------
# Slow peers


@pytest.mark.slow
def test_a_scanner_that_stops_reading_gets_the_read_timeout(proxies, proc, upstream):
    """The contract's read timeout applies to a scanner that stops reading:
    its connection is cut after --timeout, and the API's is not held."""
    import socket
    import time

    from tests.test_proxy import _own, _port

    proc("configure", "api", "--auth-type", "bearer", "--secrets", "env", "--url",
         upstream.url, "--no-input")
    size = 16 * 1024 * 1024  # far more than the socket buffers hold
    upstream.state.raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"s" * size
    running = proxies.start("api=0", "--timeout", "1",
                            env={"ASTRA_AUTH_API_BEARER_TOKEN": "tok-reader-1"})
    port = _port(running, "api")
    with socket.socket() as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        stalled.settimeout(30)
        stalled.connect(("127.0.0.1", port))
        stalled.sendall(_own(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n", port))
        time.sleep(3)  # the scanner reads nothing for three times the timeout
        received = 0
        try:
            while part := stalled.recv(1 << 20):
                received += len(part)
        except ConnectionResetError:
            pass
    assert 0 < received < size  # cut off, not complete
    with client() as c:  # and the proxy serves on
        assert c.get(running.url("api", "/echo/after")).status_code == 200
