"""`astra-auth proxy`: a real proxy process between a real client and a real API.

Every test runs `python -m astra_auth proxy` as a user would, in front of the
recording upstream of tests/servers/upstream.py, with tokens from the test
authorization server.  Its stdout and stderr go to the leak guard.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes import CLIENT_SECRET
from tests.proxies import ProxyProcess, client
from tests.servers.upstream import Upstream

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _quiet_test_idp() -> Iterator[None]:
    """The test authorization server's own debug log quotes the client it
    authenticates, secret and all.  The proxy asks for its first token in the
    background, so that line can land in any phase of a test: keep it out of
    the leak guard's records (the proxy's output is what is checked)."""
    import logging

    logger = logging.getLogger("authlib")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(level)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.stop()


def configure(run, name: str, token_url: str, url: str | None,  # type: ignore[no-untyped-def]
              client_id: str = "scanner-app") -> None:
    """A client_credentials target whose secret comes from the environment.
    `run` is `cli` (in this process, faster) or `proc`: both write the config
    file the proxy process reads."""
    args = ["configure", name, "--grant-type", "client_credentials", "--token-url", token_url,
            "--client-id", client_id, "--secrets", "env", "--no-input"]
    if url is not None:
        args += ["--url", url]
    run(*args)


@pytest.fixture
def api(cli, idp, upstream):  # type: ignore[no-untyped-def]
    """Target `api`: the test authorization server's tokens for the upstream."""
    configure(cli, "api", idp.token_url, upstream.url)
    return upstream


# ---------------------------------------------------------------------------
# What reaches the API


def test_adds_a_fresh_credential_and_replaces_the_clients_own(proxies, api, idp, leaks):
    running = proxies.start("api=0")
    with client() as c:
        answer = c.get(running.url("api", "/echo/items?id=7&q=a%20b"), headers={
            "Authorization": "Bearer forged-by-the-scanner", "X-Scan": "1",
            "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "hop", "TE": "trailers"})
    assert answer.status_code == 200
    seen = api.state.seen[-1]
    assert seen.path == "/echo/items?id=7&q=a%20b"
    assert seen.all("Authorization") == [f"Bearer {idp.state.issued[-1]}"]
    assert answer.json()["client_id"] == "scanner-app"
    assert seen.header("Host") == api.url.removeprefix("http://")
    assert seen.header("X-Scan") == "1"
    assert seen.header("X-Drop-Me") is None and seen.header("TE") is None
    # The answer comes back with its own headers, less the hop-by-hop ones.
    assert answer.headers["X-Upstream"] == "yes"
    assert answer.headers["Set-Cookie"] == "a=1"
    assert "X-Private" not in answer.headers
    # The proxy's own output never holds the token it added.
    assert running.stop() == 0
    output = "".join(running.out) + running.stderr
    assert idp.state.issued[-1] not in output
    assert "api: http://127.0.0.1:" in output
    assert "api: new token, valid" in running.stderr


def test_x_astra_auth_none_forwards_without_a_credential(proxies, api):
    running = proxies.start("api=0")
    with client() as c:
        bare = c.get(running.url("api"), headers={"X-Astra-Auth": "none"})
        forged = c.get(running.url("api"), headers={"X-Astra-Auth": "None",
                                                    "Authorization": "Bearer forged"})
    assert bare.status_code == forged.status_code == 200
    first, second = api.state.seen[-2:]
    assert first.header("Authorization") is None
    assert first.header("X-Astra-Auth") is None
    # The scanner's own (forged) credential is what the API sees.
    assert second.all("Authorization") == ["Bearer forged"]
    assert second.header("X-Astra-Auth") is None


def test_a_2_mib_upload_streams_through(proxies, api):
    running = proxies.start("api=0")
    payload = bytes(range(256)) * (8 * 1024) + b"tail"  # 2 MiB and 4 bytes
    digest = hashlib.sha256(payload).hexdigest()

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(payload), 64 * 1024):
            yield payload[i:i + 64 * 1024]

    with client() as c:
        sized = c.post(running.url("api", "/echo/upload"), content=payload)
        chunked = c.put(running.url("api", "/echo/upload"), content=chunks())
    assert sized.status_code == chunked.status_code == 200
    assert sized.json()["body_length"] == len(payload)
    assert sized.json()["body_sha256"] == digest
    assert sized.json()["chunked"] is False  # the client's Content-Length is kept
    assert chunked.json()["body_length"] == len(payload)
    assert chunked.json()["body_sha256"] == digest


def test_the_answer_streams_back_as_it_comes(proxies, api):
    running = proxies.start("api=0")
    received = b""
    with client() as c, c.stream("GET", running.url("api", "/stream")) as answer:
        parts = answer.iter_raw()
        while b"second;" not in received:
            received += next(parts)
        # The upstream has not finished: what arrived came through while it waits.
        assert not api.state.released.is_set()
        api.release()
        for part in parts:
            received += part
    assert received == b"first;second;last;"


def test_a_slow_upstream_does_not_block_other_requests(proxies, api):
    running = proxies.start("api=0")
    results: dict[str, int] = {}

    def slow() -> None:
        with client() as c:
            results["slow"] = c.get(running.url("api", "/hold")).status_code

    worker = threading.Thread(target=slow)
    worker.start()
    assert api.state.arrived.wait(30)
    with client() as c:
        assert c.get(running.url("api", "/echo/fast")).status_code == 200
    assert "slow" not in results  # the slow one is still held upstream
    api.release()
    worker.join(30)
    assert results["slow"] == 200


def test_a_slow_client_does_not_block_other_requests(proxies, api):
    running = proxies.start("api=0")
    port = int(running.addresses["api"].rsplit(":", 1)[1])
    body = b'{"name": "slow client"}'
    with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
        slow.sendall(_own(b"POST /echo/slow HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          b"application/json\r\nContent-Length: %d\r\n\r\n%s"
                          % (len(body), body[:5]), port))
        with client() as c:
            assert c.get(running.url("api", "/echo/fast")).status_code == 200
        slow.sendall(body[5:])
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += slow.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
    seen = [s for s in api.state.seen if s.path == "/echo/slow"]
    assert [s.body_length for s in seen] == [len(body)]


def test_head_and_no_content_answers(proxies, api):
    running = proxies.start("api=0")
    with client() as c:
        head = c.head(running.url("api", "/echo/head"))
        again = c.get(running.url("api", "/echo/after-head"))  # same connection still usable
    assert head.status_code == 200 and head.content == b""
    assert again.status_code == 200


def _own(data: bytes, port: int) -> bytes:
    """`Host: x` in a test's bytes stands for the proxy's own address: a
    request that names another host is refused (421) before anything else."""
    return data.replace(b"Host: x", b"Host: 127.0.0.1:%d" % port)


def _raw(port: int, data: bytes, *, until_close: bool = True) -> bytes:
    """Send bytes as they are (`Host: x`: see `_own`); read until the proxy
    closes (or 10 s pass)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_own(data, port))
        received = b""
        while True:
            try:
                part = sock.recv(65536)
            except TimeoutError:
                break
            if not part:
                break
            received += part
            if not until_close and received.count(b"\r\n\r\n") >= 1 and b"}" in received:
                break
        return received


def _refused(head: bytes, status: bytes) -> bool:
    """The proxy's refusal of a request it could not parse: its version is not
    known, and aiohttp answers such a request as HTTP/1.0 (RFC 9110 §6.2)."""
    return re.match(rb"HTTP/1\.[01] " + re.escape(status) + rb"\r\n", head) is not None


def _raw_rest(sock: socket.socket) -> bytes:
    """What the proxy sends until it closes."""
    received = b""
    while part := sock.recv(65536):
        received += part
    return received


def _port(running: ProxyProcess, name: str) -> int:
    return int(running.addresses[name].rsplit(":", 1)[1])


def test_pipelined_requests_are_answered_in_order(proxies, api):
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"),
                    b"GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\n"
                    b"GET /echo/two HTTP/1.1\r\nHost: x\r\n\r\n"
                    b"GET /echo/three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 3
    order = [received.index(b'"path": "/echo/%s"' % p) for p in (b"one", b"two", b"three")]
    assert order == sorted(order)
    assert [s.path for s in api.state.seen[-3:]] == ["/echo/one", "/echo/two", "/echo/three"]


def test_every_credential_header_of_the_scanners_is_replaced(proxies, api, idp):
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"),
                    b"GET /echo/twice HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer one\r\n"
                    b"authorization: Bearer two\r\nConnection: close\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert api.state.seen[-1].all("Authorization") == [f"Bearer {idp.state.issued[-1]}"]


def test_a_cookie_key_replaces_its_own_among_several_cookie_lines(proxies, proc, upstream,
                                                                  leaks):
    key = "ck7Hq2Wz9Lp4Rm1Xv6Nb3Tj8"
    leaks.watch(key)
    proc("configure", "jar", "--auth-type", "api_key", "--key-name", "sid", "--key-location",
         "cookie", "--secrets", "env", "--url", upstream.url, "--no-input")
    running = proxies.start("jar=0", env={"ASTRA_AUTH_JAR_API_KEY": key})
    received = _raw(_port(running, "jar"),
                    b"GET /echo/jar HTTP/1.1\r\nHost: x\r\nCookie: a=1; sid=forged\r\n"
                    b"Cookie: b=2\r\nConnection: close\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert upstream.state.seen[-1].all("Cookie") == [f"a=1; b=2; sid={key}"]
    assert running.stop() == 0


def test_http_1_0_without_keep_alive_is_answered_then_closed(proxies, api):
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"), b"GET /echo/old HTTP/1.0\r\n\r\n")
    head, _, body = received.partition(b"\r\n\r\n")
    # Answered in the client's own version (RFC 9110 §6.2 allows either), whose
    # default is to close: `_raw` returns once the proxy has closed.
    assert head.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"\r\nConnection: keep-alive" not in head
    assert json.loads(body)["path"] == "/echo/old"


def test_a_request_that_is_not_http_is_a_400_and_the_connection_closes(proxies, api):
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"), b"GET /echo HTTP/1.1\r\nBad Header\r\n\r\n")
    head, _, body = received.partition(b"\r\n\r\n")
    assert _refused(head, b"400 Bad Request")
    assert b"\r\nConnection: close" in head
    assert json.loads(body)["error"]["category"] == "bad_request"
    assert api.state.seen == []


@pytest.mark.parametrize("end", [b"", b"\r\n"], ids=["never-ends", "complete"])
def test_a_head_larger_than_256_kib_is_a_431(proxies, api, end):
    running = proxies.start("api=0")
    # Complete, in one write: the last read that completes it is counted too.
    huge = b"X-Big: " + b"a" * (300 * 1024) + b"\r\n" + end
    received = _raw(_port(running, "api"), b"GET /echo HTTP/1.1\r\nHost: x\r\n" + huge)
    assert _refused(received, b"431 Request Header Fields Too Large")
    assert json.loads(received.partition(b"\r\n\r\n")[2])["error"]["category"] == \
        "request_too_large"
    assert api.state.seen == []


def test_expect_100_continue_is_answered_before_the_body_is_sent(proxies, api):
    running = proxies.start("api=0")
    with socket.create_connection(("127.0.0.1", _port(running, "api")), timeout=30) as sock:
        sock.sendall(_own(b"POST /echo/continue HTTP/1.1\r\nHost: x\r\nExpect: "
                          b"100-continue\r\nContent-Length: 5\r\n\r\n", _port(running, "api")))
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(65536)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        answer = b""
        while b"}" not in answer:
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    seen = api.state.seen[-1]
    assert seen.body_length == 5 and seen.header("Expect") is None


def test_an_api_that_drops_kept_connections_loses_no_request(proxies, api):
    running = proxies.start("api=0")
    with client() as c:
        statuses = [c.get(running.url("api", path)).status_code
                    for _ in range(20) for path in ("/close-after", "/echo/next")]
    assert statuses == [200] * 40
    assert len([s for s in api.state.seen if s.path == "/echo/next"]) == 20


@pytest.mark.slow
def test_tokens_are_renewed_ahead_of_expiry_during_a_scan(cli, proxies, proc, idp, upstream):
    configure(cli, "blink", idp.token_url, upstream.url, client_id="blink")
    running = proxies.start("blink=0")
    before = idp.token_requests()
    answers = []
    with client() as c:
        # Until the proxy has renewed once by itself (6-second tokens), bounded.
        while len({a["headers_auth"] for a in answers}) < 2 and len(answers) < 2000:
            answer = c.get(running.url("blink", "/echo/scan"))
            assert answer.status_code == 200
            data = answer.json()
            data["headers_auth"] = dict(data["headers"]).get("Authorization")
            answers.append(data)
            time.sleep(0.01)
    assert len({a["headers_auth"] for a in answers}) == 2
    # Every request arrived with a token that was still valid: no 401, no retry.
    assert all(a["valid"] for a in answers)
    assert idp.token_requests() - before == 2
    assert [s.path for s in upstream.state.seen] == ["/echo/scan"] * len(answers)


@pytest.mark.slow
@pytest.mark.keyring
def test_secrets_and_token_cache_in_the_real_keyring(proxies, proc, idp, upstream,
                                                     real_keyring):
    name = real_keyring.name("proxy")
    proc("configure", name, "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", "--client-secret-stdin", "--url", upstream.url,
         "--no-input", input=CLIENT_SECRET + "\n")
    running = proxies.start(f"{name}=0", env={"ASTRA_AUTH_CLIENT_SECRET": ""})
    with client() as c:
        answers = [c.get(running.url(name, "/echo/k")) for _ in range(3)]
    assert [a.json()["client_id"] for a in answers] == ["scanner-app"] * 3
    cached = json.loads(real_keyring.get(f"{name}:token") or "{}")
    assert cached.get("access_token") == idp.state.issued[-1]


# ---------------------------------------------------------------------------
# When something fails


def test_forward_proxy_requests_are_refused_and_go_nowhere(proxies, api):
    running = proxies.start("api=0")
    port = int(running.addresses["api"].rsplit(":", 1)[1])
    for line in (b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n",
                 b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(line + b"Connection: close\r\n\r\n")
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400")
        error = json.loads(body)["error"]
        assert error["category"] == "not_a_forward_proxy"
        assert error["hint"].startswith(f"Make {running.addresses['api']} the scanner's target")
    assert api.state.seen == []


def test_an_upstream_slower_than_the_timeout_is_a_504(proxies, api):
    running = proxies.start("api=0", "--timeout", "1")
    with client() as c:
        answer = c.get(running.url("api", "/hold"))
    api.release()
    assert answer.status_code == 504
    assert answer.json()["error"]["category"] == "timeout"
    assert answer.json()["error"]["hint"] == ("The API did not answer within 1 s: give it "
                                              "longer with --timeout SECONDS.")


@pytest.mark.slow
def test_tls_to_the_upstream_is_verified(cli, proxies, proc, idp, tls_idp):
    configure(cli, "api", idp.token_url, None)
    api_url = tls_idp.token_url.removesuffix("/oauth/token")
    trusted = proxies.start("api=0", "--upstream", api_url, "--ca-bundle",
                            str(tls_idp.ca_file))
    untrusted = proxies.start("api=0", "--upstream", api_url)
    with client() as c:
        ok = c.get(trusted.url("api", "/api/resource"))
        refused = c.get(untrusted.url("api", "/api/resource"))
    assert ok.status_code == 200 and ok.json() == {"ok": True, "sub": "scanner-app"}
    assert refused.status_code == 502
    assert refused.json()["error"]["category"] == "tls_error"


def test_upstream_down_is_a_clean_502(proxies, api, closed_port):
    port = closed_port
    running = proxies.start("api=0", "--upstream", f"http://127.0.0.1:{port}")
    with client() as c:
        answer = c.get(running.url("api", "/anything"))
    assert answer.status_code == 502
    assert answer.json() == {"error": {
        "category": "connection_refused",
        "message": f"the API at http://127.0.0.1:{port} could not be reached: "
                   "connection_refused",
        "hint": f"Nothing listens at http://127.0.0.1:{port}: start the API, or check the "
                "target's url (astra-auth targets show api) or --upstream.",
    }}
    assert running.stop() == 0
    assert f"api: the API at http://127.0.0.1:{port} could not be reached" in running.stderr


def test_an_answer_cut_off_upstream_is_never_passed_on_as_complete(proxies, api):
    running = proxies.start("api=0")
    with client() as c:
        # A small answer is read whole before the proxy answers: a clean 502.
        small = c.get(running.url("api", "/cut"))
        assert small.status_code == 502
        assert small.json()["error"]["category"] == "connection_error"
        # A large one streams: its start is sent, so the client's copy is cut off too.
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(running.url("api", "/cut?big"))
        assert c.get(running.url("api", "/echo/next")).status_code == 200
    assert running.stop() == 0
    assert "api: GET answer cut off by the API (connection_error)" in running.stderr


def test_a_failing_token_endpoint_gives_502_and_serving_continues(cli, proxies, proc, faults,
                                                                       upstream):
    configure(cli, "down", f"{faults.base}/server", upstream.url)
    asked = len(faults.requests_to("server"))
    running = proxies.start("down=0")
    with client() as c:
        first = c.get(running.url("down", "/echo/a"))
        second = c.get(running.url("down", "/echo/b"))
        anonymous = c.get(running.url("down", "/echo/c"), headers={"X-Astra-Auth": "none"})
    for answer in (first, second):
        assert answer.status_code == 502
        error = answer.json()["error"]
        assert error["category"] == "server_error"
        assert error["message"].startswith("server_error: ")
        assert isinstance(error["hint"], str) and error["hint"]
    # No request reached the API with a missing credential, and the proxy still serves.
    assert [s.path for s in upstream.state.seen] == ["/echo/c"]
    assert anonymous.status_code == 200
    # The warm-up asked the endpoint; the requests got its failure at once
    # during the back-off (one more try at most, had a second passed).
    assert len(faults.requests_to("server")) - asked in (1, 2)
    assert running.stop() == 0
    assert running.stderr.count("down: no token: server_error") == 1


def test_401_renews_once_and_retries_with_the_kept_body(proxies, api, idp):
    running = proxies.start("api=0")
    before = idp.token_requests()
    body = json.dumps({"order": 42}).encode()
    with client() as c:
        assert c.get(running.url("api", "/echo/warm")).status_code == 200
        answer = c.post(running.url("api", "/refuse-first"), content=body,
                        headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    tries = [s for s in api.state.seen if s.path == "/refuse-first"]
    assert len(tries) == 2
    assert tries[0].header("Authorization") != tries[1].header("Authorization")
    assert tries[1].header("Authorization") == f"Bearer {idp.state.issued[-1]}"
    assert {t.body_sha256 for t in tries} == {hashlib.sha256(body).hexdigest()}
    # The first token (warm-up and /echo/warm shared it) and the one renewal.
    assert idp.token_requests() - before == 2
    assert running.stop() == 0
    assert running.stderr.count("api: new token, valid") == 2


@pytest.mark.slow
def test_a_refused_fresh_token_is_not_renewed_again(proxies, api, idp):
    running = proxies.start("api=0")
    with client() as c:
        c.get(running.url("api", "/echo/warm"))
        before = idp.token_requests()
        answers = [c.get(running.url("api", "/always-401")).status_code for _ in range(3)]
    assert answers == [401, 401, 401]
    assert idp.token_requests() - before == 1  # one renewal for three refusals


def test_a_large_body_is_not_retried_after_401(proxies, api, idp):
    running = proxies.start("api=0")
    with client() as c:
        c.get(running.url("api", "/echo/warm"))
        answer = c.post(running.url("api", "/refuse-first"), content=b"x" * (MIB + 1))
    assert answer.status_code == 401
    tries = [s for s in api.state.seen if s.path == "/refuse-first"]
    assert [t.body_length for t in tries] == [MIB + 1]


def test_quiet_prints_failures_but_no_renewals(cli, proxies, proc, api, faults, upstream):
    configure(cli, "down", f"{faults.base}/server", upstream.url)
    running = proxies.start("api=0", "down=0", "--quiet", count=2)
    with client() as c:
        assert c.get(running.url("api")).status_code == 200
        assert c.get(running.url("down")).status_code == 502
    assert running.stop() == 0
    assert "new token" not in running.stderr
    assert "down: no token: server_error" in running.stderr


# ---------------------------------------------------------------------------
# Several identities, start and stop


def test_two_targets_on_two_ports_each_with_its_own_identity(cli, proxies, proc, idp, upstream):
    configure(cli, "alice", idp.token_url, upstream.url, client_id="scanner-app")
    configure(cli, "bob", idp.token_url, upstream.url, client_id="cc-only")
    running = proxies.start("alice=0", "bob=0", count=2)
    assert running.addresses["alice"] != running.addresses["bob"]
    with client() as c:
        for _ in range(3):
            assert c.get(running.url("alice", "/echo/who")).json()["client_id"] == "scanner-app"
            assert c.get(running.url("bob", "/echo/who")).json()["client_id"] == "cc-only"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_stop_it_cleanly(proxies, api, sig):
    running = proxies.start("api=0")
    with client() as c:
        assert c.get(running.url("api")).status_code == 200
    assert running.stop(sig) == 0
    assert "astra-auth proxy stopped." in running.stderr


def test_a_port_in_use_is_exit_2_before_anything_else(proc, api, idp):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        before = idp.token_requests()
        result = proc("proxy", f"api={port}", expect=2,
                      env={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert f"port {port} is in use on 127.0.0.1" in result.err
    assert result.out == ""  # no address printed
    assert idp.token_requests() == before  # no token asked for


def test_a_loopback_name_is_resolved_once_and_keeps_its_host_header(proxies, api):
    port = api.url.rsplit(":", 1)[1]
    running = proxies.start("api=0", "--upstream", f"http://localhost:{port}")
    with client() as c:
        assert c.get(running.url("api", "/echo/by-name")).status_code == 200
    assert api.state.seen[-1].header("Host") == f"localhost:{port}"


def test_address_lines_name_the_upstream(proxies, api):
    running = proxies.start("api=0")
    line = "".join(running.out).strip()
    assert re.fullmatch(r"api: http://127\.0\.0\.1:\d+ \(forwards to " + re.escape(api.url)
                        + r"\)", line)


def test_allow_remote_says_what_it_risks(proxies, api):
    running = proxies.start("api=0", "--host", "127.0.0.1", "--allow-remote")
    running.stop()
    assert "--allow-remote: anyone who can reach 127.0.0.1 on port " in running.stderr
    assert "can use the credential of api" in running.stderr


# ---------------------------------------------------------------------------
# Usage and configuration errors (in-process: nothing starts)


@pytest.fixture
def configured(cli, idp):  # type: ignore[no-untyped-def]
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env", "--url", "https://api.example.com",
        "--no-input")
    return cli


@pytest.mark.parametrize(("args", "message"), [
    (["api", "--host", "0.0.0.0"],
     "--host 0.0.0.0: listening beyond loopback lets anyone who can reach the port use the "
     "target's credential"),
    (["api", "--host", "192.0.2.10"], "--host 192.0.2.10: listening beyond loopback"),
    (["api", "--upstream", "http://api.example.com"],
     "--upstream: http://api.example.com uses plain http: the proxy would send the "
     "credential across the network in clear text"),
    (["api", "--upstream", "https://user:pw@api.example.com"],
     "--upstream: the URL contains user information"),
    (["api", "--upstream", "ftp://api.example.com"], "--upstream: the URL must start with"),
    (["api=80800"], "the port must be a number from 1 to 65535"),
    (["api=x"], "the port must be a number from 1 to 65535"),
    (["api", "api"], "port 8080 is given to more than one target"),
    (["api=8081", "api=8081"], "port 8081 is given to more than one target"),
    (["bad name"], "TARGET 'bad name'"),
    (["api", "--timeout", "601"], "--timeout: give a number of seconds between 0 and 600"),
])
def test_usage_errors_exit_2(configured, args, message):
    result = configured("proxy", *args, expect=2)
    assert message in result.err


def test_host_hint_names_allow_remote(configured):
    result = configured("proxy", "api", "--host", "0.0.0.0", expect=2)
    assert "add --allow-remote" in result.err


def test_loopback_upstream_over_plain_http_is_accepted(configured):
    # Refused only later, by the port: proves the URL check let it through.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = configured("proxy", f"api={port}", "--upstream", "http://localhost:9/v1",
                            expect=2)
    assert "is in use" in result.err


def test_a_plain_http_url_in_the_config_is_a_configuration_error(cli, idp):
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env", "--url", "https://api.example.com",
        "--no-input")
    text = cli.config_path.read_text()
    cli.config_path.write_text(text.replace("https://api.example.com", "http://api.example.com"))
    result = cli("proxy", "api", expect=3)
    assert "targets.api.url: the API URL must use https" in " ".join(result.err.split())
    assert 'url = "https://api.example.com"' in result.err


def test_a_target_without_url_needs_upstream(cli, idp):
    cli("configure", "api", "--grant-type", "client_credentials", "--token-url", idp.token_url,
        "--client-id", "scanner-app", "--secrets", "env", "--no-input")
    result = cli("proxy", "api", expect=3)
    assert "target 'api' has no API URL" in result.err
    assert "--upstream https://api.example.com" in result.err


def test_a_target_without_authentication_is_exit_3(cli):
    cli("targets", "add", "bare", "--url", "https://api.example.com")
    result = cli("proxy", "bare=0", expect=3)
    assert "target 'bare' has no authentication configured yet" in result.err
    assert "astra-auth configure bare" in result.err
    assert result.out == ""  # no address: nothing was served


def test_an_unknown_target_is_exit_3(configured):
    result = configured("proxy", "nope", expect=3)
    assert "no target named 'nope'" in result.err


def test_no_target_is_a_usage_error(configured):
    result = configured("proxy", expect=2)
    assert "TARGET" in result.err


def test_proxy_module_is_imported_by_the_proxy_command_only():
    root = os.path.join(os.path.dirname(__file__), "..", "src", "astra_auth")
    importers = []
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            if not name.endswith(".py") or relative.startswith("proxy" + os.sep):
                continue
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            if re.search(r"^\s*(from|import) astra_auth\.proxy\b", text, re.M):
                importers.append(os.path.relpath(path, root))
    assert importers == []
    # The command line names it, and imports it when `proxy` runs (cli.group).
    from astra_auth.cli.app import Commands

    assert Commands.lazy["proxy"].run == "astra_auth.proxy:run"


def test_concurrent_first_requests_share_one_token_request(configured, idp):
    """What the proxy relies on: threads that wait on the source's lock while
    another fetches the token take that token, even without a keyring cache."""
    from astra_auth.credentials.interface import SourceSettings, open_source
    from astra_auth.storage.lookup import load_target
    from tests.fakes import make_deps

    deps = make_deps(configured.config_path, secrets=configured.store,
                     environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    source = open_source(load_target(deps, "api"), deps, SourceSettings())
    before = idp.token_requests()
    start = threading.Barrier(8)
    values: list[str] = []

    def ask() -> None:
        start.wait()
        values.append(source.get().value)

    workers = [threading.Thread(target=ask) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert idp.token_requests() - before == 1
    assert values == [f"Bearer {idp.state.issued[-1]}"] * 8


# ---------------------------------------------------------------------------
# The other auth types, through the same credential interface


def test_an_api_key_in_a_query_parameter_replaces_the_clients_own(proxies, proc, upstream,
                                                                 leaks):
    key = "ak51c2e9d0b7a4Jf6TnW3yP"
    leaks.watch(key)
    proc("configure", "keyed", "--auth-type", "api_key", "--key-name", "api_key",
         "--key-location", "query", "--secrets", "env", "--url", upstream.url, "--no-input")
    running = proxies.start("keyed=0", env={"ASTRA_AUTH_KEYED_API_KEY": key})
    with client() as c:
        answer = c.get(running.url("keyed", "/echo/items?api_key=forged&id=7"))
    assert answer.status_code == 200
    assert upstream.state.seen[-1].path == f"/echo/items?id=7&api_key={key}"
    assert running.stop() == 0
    assert key not in "".join(running.out) + running.stderr


def test_a_jwt_signed_here_reaches_the_api_and_its_signing_is_logged(proxies, proc, upstream,
                                                                     leaks):
    secret = "hsK2v9Qw7Lm4Zp1Xc8Rt6Yb3Nd5Fg0Hj"
    leaks.watch(secret)
    proc("configure", "signed", "--auth-type", "jwt", "--algorithm", "HS256", "--claim",
         "sub=scanner", "--header-name", "X-Signed", "--prefix", "", "--secrets", "env",
         "--url", upstream.url, "--no-input")
    running = proxies.start("signed=0", env={"ASTRA_AUTH_SIGNED_SIGNING_KEY": secret})
    with client() as c:
        assert c.get(running.url("signed")).status_code == 200
    sent = upstream.state.seen[-1].header("X-Signed")
    assert sent is not None and sent.count(".") == 2
    leaks.watch(sent)
    assert running.stop() == 0
    assert "signed: new JWT signed, valid 300 seconds" in running.stderr


def test_a_missing_api_key_is_a_502_with_its_category(proxies, proc, upstream):
    proc("configure", "keyed", "--auth-type", "api_key", "--key-name", "X-Key", "--secrets",
         "env", "--url", upstream.url, "--no-input")
    running = proxies.start("keyed=0")
    with client() as c:
        answer = c.get(running.url("keyed"))
    assert answer.status_code == 502
    assert answer.json()["error"]["category"] == "missing_secret"
    assert running.stop() == 0
    assert ("keyed: no credential: missing_secret: The API key for keyed is read from "
            "ASTRA_AUTH_KEYED_API_KEY (or ASTRA_AUTH_API_KEY), neither of which is set."
            ) in running.stderr


# ---------------------------------------------------------------------------
# HTTP/1.1 at the edges: hostile scanners, hostile APIs


def test_a_post_with_content_length_0_reaches_the_api_with_it(proxies, api):
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"), b"POST /echo/empty HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    # Some servers answer a POST without a length with 411 Length Required.
    assert api.state.seen[-1].all("Content-Length") == ["0"]


def test_trailer_fields_never_become_header_fields(proxies, api):
    running = proxies.start("api=0")
    # The scanner's trailer: the body goes on, its trailer fields do not.
    received = _raw(_port(running, "api"), b"POST /echo/trailers HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    b"4\r\nbody\r\n0\r\nX-Late: trailer\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    seen = api.state.seen[-1]
    assert seen.body_length == 4 and seen.header("X-Late") is None
    # The API's trailer, small answer read whole: not merged into its head.
    api.state.raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Set-Cookie\r\n"
                     b"\r\n4\r\nbody\r\n0\r\nSet-Cookie: planted=1\r\nX-Late: trailer\r\n\r\n")
    with client() as c:
        answer = c.get(running.url("api", "/raw"))
    assert answer.status_code == 200 and answer.content == b"body"
    assert "set-cookie" not in answer.headers and "x-late" not in answer.headers


def test_an_api_switching_protocols_unasked_is_a_502(proxies, api):
    running = proxies.start("api=0")
    api.state.raw = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
                     b"Connection: Upgrade\r\n\r\nnot HTTP/1.1 any more")
    with client() as c:
        answer = c.get(running.url("api", "/raw"))
        after = c.get(running.url("api", "/echo/after"))
    assert answer.status_code == 502
    assert answer.json()["error"]["category"] == "connection_error"
    assert after.status_code == 200
    assert running.stop() == 0
    assert "Traceback" not in running.stderr and "Fatal error" not in running.stderr


def _answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """One answer with a Content-Length, read from a raw socket: head, body."""
    received = b""
    while b"\r\n\r\n" not in received:
        part = sock.recv(65536)
        assert part, received
        received += part
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"\r\ncontent-length: *(\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        part = sock.recv(65536)
        assert part, received
        body += part
    return head, body


@pytest.mark.slow
def test_an_api_connection_is_not_reused_while_a_request_body_still_goes_out(proxies, api):
    running = proxies.start("api=0", "--timeout", "5")
    payload = b"u" * (2 * MIB)
    sent = MIB + MIB // 2  # more than the proxy keeps: the body streams
    with socket.create_connection(("127.0.0.1", _port(running, "api")), timeout=30) as upload:
        upload.sendall(_own(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                            % len(payload), _port(running, "api")) + payload[:sent])
        # The API answers before it has the whole body, and keeps the connection.
        assert api.state.answered_early.wait(30)
        with client() as c:
            other = c.get(running.url("api", "/echo/other"))

        def rest() -> None:
            with contextlib.suppress(OSError):
                upload.sendall(payload[sent:])

        sender = threading.Thread(target=rest)
        sender.start()
        head, body = _answer(upload)
        sender.join(30)
    # Not written into the middle of the upload, where the API reads it as body.
    assert other.status_code == 200 and other.json()["path"] == "/echo/other"
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and json.loads(body) == {"early": True}


@pytest.mark.slow
def test_an_api_connection_paused_for_a_slow_scanner_reads_again_when_reused(proxies, api):
    """A scanner that stops reading pauses the API's connection; once the
    scanner has read all of it, that connection goes back to the pool and
    must read the next answer."""
    running = proxies.start("api=0")
    port = _port(running, "api")
    with socket.socket() as slow:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(30)
        slow.connect(("127.0.0.1", port))
        slow.sendall(_own(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", port))
        assert api.state.arrived.wait(30)
        api.release()  # the last piece comes before the scanner reads anything
        received = b""
        while not received.endswith(b"0\r\n\r\n"):
            part = slow.recv(65536)
            assert part, received
            received += part
        assert b"first;" in received and b"second;" in received and b"last;" in received
        slow.sendall(_own(b"GET /echo/next HTTP/1.1\r\nHost: x\r\n\r\n", port))
        head, body = _answer(slow)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and json.loads(body)["path"] == "/echo/next"


@pytest.mark.slow
def test_a_scanner_gone_mid_upload_leaves_nothing_behind(proxies, api):
    # A chunk size that is not hex stops the body as one that stopped arriving
    # does: after --timeout seconds (the default, 10, is the time of a scan).
    running = proxies.start("api=0", "--timeout", "3")
    for ending in (b"", b"zz\r\n"):  # closed mid-body; a chunk size that is not hex
        framing = b"Content-Length: %d" % (3 * MIB) if not ending else \
            b"Transfer-Encoding: chunked"
        data = b"g" * (2 * MIB)
        if ending:
            data = b"%x\r\n%b\r\n" % (len(data), data) + ending
        with socket.create_connection(("127.0.0.1", _port(running, "api")), timeout=30) as up:
            up.sendall(_own(b"POST /echo/gone HTTP/1.1\r\nHost: x\r\n%b\r\n\r\n" % framing,
                            _port(running, "api")) + data)
            if ending:  # the API had half of it: its connection is closed, this is a 400
                head, _, body = _raw_rest(up).partition(b"\r\n\r\n")
                assert _refused(head, b"400 Bad Request")
                assert json.loads(body)["error"]["category"] == "bad_request"
        with client() as c:
            assert c.get(running.url("api", "/echo/after")).status_code == 200
    assert running.stop() == 0
    # Nothing but the proxy's own lines: no asyncio complaint about an
    # exchange left behind ("Future exception was never retrieved").
    lines = [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in running.stderr.splitlines()]
    assert lines == ["api: new token, valid 3600 seconds", "astra-auth proxy stopped."]


def test_sigterm_right_after_the_address_line_is_exit_0(proxies, api):
    running = proxies.start("api=0")
    assert running.stop() == 0  # not killed by the signal (-15)
    assert "astra-auth proxy stopped.\n" in running.stderr


@pytest.mark.slow
def test_sigterm_while_a_token_request_hangs_stops_it_at_once(cli, proxies, proc, upstream):
    with socket.socket() as silent:  # a token endpoint that accepts and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        configure(cli, "stuck", f"http://127.0.0.1:{silent.getsockname()[1]}/token",
                  upstream.url)
        # Its first token is asked for at once, and would wait 60 s for an answer;
        # stop() allows 30 s, and SIGTERM right after the address line is handled.
        running = proxies.start("stuck=0", "--timeout", "60")
        assert running.stop() == 0
    assert "astra-auth proxy stopped.\n" in running.stderr


@pytest.mark.slow
def test_sigterm_while_an_answer_streams_cuts_it_off_and_exits_0(proxies, api):
    running = proxies.start("api=0")
    with client() as c, c.stream("GET", running.url("api", "/stream")) as answer:
        parts = answer.iter_raw()
        received = b""
        while b"second;" not in received:
            received += next(parts)
        assert running.stop() == 0  # the API is still holding the last part back
        with pytest.raises(httpx.RemoteProtocolError):  # not passed on as complete
            for part in parts:
                received += part
    assert received == b"first;second;"
    assert "astra-auth proxy stopped.\n" in running.stderr


@pytest.mark.slow
def test_a_large_upload_refused_before_its_body_is_read_still_gets_its_answer(
        cli, proxies, proc, faults, upstream):
    configure(cli, "down", f"{faults.base}/server", upstream.url)
    running = proxies.start("down=0")
    with client() as c:  # sends the whole body (more than socket buffers), then reads
        answer = c.post(running.url("down", "/echo/upload"), content=b"b" * (32 * MIB))
    assert answer.status_code == 502
    assert answer.json()["error"]["category"] == "server_error"
    assert upstream.state.seen == []


def _peak_memory(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


@pytest.mark.slow
def test_an_answer_nobody_reads_yet_is_not_buffered_without_bound(cli, proxies, proc, upstream):
    """A 401 with a large body arrives while the renewal it causes is slow: the
    proxy must stop reading that answer, not keep all of it in memory."""
    configure(cli, "slow", f"{upstream.url}/token", upstream.url)
    running = proxies.start("slow=0")
    upstream.state.raw = (b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n"
                          b"Content-Length: %d\r\n\r\n" % (64 * MIB) + b"r" * (64 * MIB))
    with client() as c:
        c.get(running.url("slow", "/echo/first"))  # the first token is in memory
        before = _peak_memory(running.child.pid)

        def renewal_held_until_the_answer_is_in_or_stuck() -> None:
            assert upstream.state.renewing.wait(30)
            upstream.state.raw_sent.wait(3)  # soon, when the proxy reads it all
            upstream.release()

        releaser = threading.Thread(target=renewal_held_until_the_answer_is_in_or_stuck)
        releaser.start()
        with c.stream("GET", running.url("slow", "/raw")) as answer:
            assert answer.status_code == 401  # the retried one, passed on
        releaser.join(30)
    assert _peak_memory(running.child.pid) - before < 16 * MIB


def test_a_head_that_never_ends_is_closed_as_an_idle_connection_is():
    """A scanner (or anyone, with --allow-remote) that sends part of a head
    and stops must not hold its connection forever: the proxy's server closes
    it after its idle time, as it closes a connection idle between requests
    (here half a second instead of 75 s)."""
    import asyncio

    from aiohttp import web

    from astra_auth.proxy.server import make_server

    async def answer(request: web.BaseRequest) -> web.Response:
        return web.Response(text="ok")

    async def closed_after_idle(data: bytes, answers: int) -> bool:
        runner = web.ServerRunner(make_server(answer, idle=0.5))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(data)
            for _ in range(answers):
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200 OK\r\n")
                await reader.readexactly(2)
            return await asyncio.wait_for(reader.read(), 10) == b""
        except TimeoutError:
            return False
        finally:
            writer.close()
            await runner.cleanup()

    assert asyncio.run(closed_after_idle(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", 0))
    assert asyncio.run(closed_after_idle(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nX-Slow: ", 1))


def test_only_an_idempotent_request_is_sent_again_after_a_kept_connection_fails(proxies, api):
    """RFC 9112 9.3.1: a proxy MUST NOT retry a non-idempotent request on its
    own.  The API may have acted on a POST before the connection broke."""
    running = proxies.start("api=0")
    with client() as c:
        for method in ("GET", "POST", "PUT"):
            assert c.get(running.url("api", "/echo/warm")).status_code == 200  # kept
            answer = c.request(method, running.url("api", "/vanish"), content=b"{}")
            assert answer.status_code == 502
            assert answer.json()["error"]["category"] == "connection_error"
    tries = [s.method for s in api.state.seen if s.path == "/vanish"]
    assert tries == ["GET", "GET", "POST", "PUT", "PUT"]


@pytest.mark.slow
def test_a_scanner_that_pipelines_without_reading_is_not_answered_without_bound(proxies,
                                                                                api):
    """Small answers are written whole: with a scanner that sends requests and
    never reads, they must wait for it, not pile up in the proxy's memory."""
    running = proxies.start("api=0")
    api.state.raw = b"HTTP/1.1 200 OK\r\nContent-Length: 61440\r\n\r\n" + b"p" * 61440
    before = _peak_memory(running.child.pid)
    with socket.create_connection(("127.0.0.1", _port(running, "api")), timeout=30) as scanner:
        scanner.sendall(_own(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n", _port(running, "api"))
                        * 1000)  # 60 MiB of answers
        with api.state.lock:  # long enough for hundreds of them, unbounded
            api.state.lock.wait_for(lambda: api.state.raw_count >= 1000, timeout=3)
        grown = _peak_memory(running.child.pid) - before
    assert grown < 16 * MIB
    assert api.state.raw_count < 1000


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"identity"])
def test_a_request_in_a_transfer_coding_other_than_chunked_is_a_501(proxies, api, coding):
    """The proxy decodes chunked only: a body in any other transfer coding
    would reach the other side as if it had none."""
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"), b"POST /echo/coded HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: %b\r\n\r\n3\r\n\x1f\x8b\x08\r\n0\r\n\r\n" % coding)
    head, _, body = received.partition(b"\r\n\r\n")
    assert _refused(head, b"501 Not Implemented")
    assert json.loads(body)["error"] == {
        "category": "bad_request", "hint": None,
        "message": "the request's body has a transfer coding other than chunked: send it "
                   "with Content-Length, or chunked alone"}
    assert api.state.seen == []


def test_an_answer_in_a_transfer_coding_other_than_chunked_is_a_502(proxies, api):
    running = proxies.start("api=0")
    with client() as c:
        for coding in (b"gzip", b"gzip, chunked"):
            api.state.raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %b\r\n\r\n" % coding
                             + (b"3\r\n\x1f\x8b\x08\r\n0\r\n\r\n" if b"chunked" in coding
                                else b"\x1f\x8b\x08"))
            answer = c.get(running.url("api", "/raw"))
            assert answer.status_code == 502
            assert answer.json()["error"]["category"] == "connection_error"


def test_an_upgrade_request_is_answered_as_http_1_1_and_says_the_connection_closes(proxies,
                                                                                   api):
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"), b"GET /echo/ws HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\nafter the upgrade")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close" in head  # what follows is not HTTP: nothing more is read
    seen = api.state.seen[-1]
    assert seen.header("Upgrade") is None and seen.header("Connection") is None
    assert json.loads(body)["path"] == "/echo/ws"


def test_an_http_proxy_that_never_answers_connect_leaves_no_connection_open(proxies, api):
    with socket.socket() as silent:  # accepts (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        running = proxies.start(
            "api=0", "--upstream", "https://api.example.com", "--timeout", "0.5",
            env={"HTTPS_PROXY": f"http://127.0.0.1:{silent.getsockname()[1]}", "NO_PROXY": ""})
        fds = f"/proc/{running.child.pid}/fd"
        # Without a credential: a token request, under the same 0.5 s timeout on
        # a busy machine, is not what this test is about.
        with client() as c:
            c.headers["X-Astra-Auth"] = "none"
            c.get(running.url("api", "/echo/warm"))
            before = len(os.listdir(fds))
            answers = [c.get(running.url("api", "/echo/x")) for _ in range(5)]
            # A connection given up is closed on the event loop's next turn.
            for _ in range(200):  # bounded: 10 s
                after = len(os.listdir(fds))
                if after <= before:
                    break
                time.sleep(0.05)
    assert [a.status_code for a in answers] == [504] * 5
    assert after <= before


@pytest.mark.slow
def test_many_concurrent_connections_each_get_their_own_answers(proxies, api):
    import asyncio

    running = proxies.start("api=0")
    port = _port(running, "api")

    async def scanner(n: int) -> list[object]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        paths = []
        try:
            for i in range(5):
                writer.write(b"GET /echo/c%d/r%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                             % (n, i, port))
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"\r\nContent-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
                body = json.loads(await reader.readexactly(length))
                paths.append(body.get("path") or (head.split(b"\r\n")[0], body))
        finally:
            writer.close()
        return paths

    async def main() -> list[list[object]]:
        return list(await asyncio.gather(*(scanner(n) for n in range(200))))

    results = asyncio.run(main())
    assert results == [[f"/echo/c{n}/r{i}" for i in range(5)] for n in range(200)]
    assert len([s for s in api.state.seen if s.path.startswith("/echo/c")]) == 1000


def test_bytes_an_api_sends_beyond_its_answer_never_reach_the_scanner(proxies, api):
    running = proxies.start("api=0")
    with client() as c:
        # Bytes that arrive with the answer and are not HTTP: the whole read is
        # refused (aiohttp parses it at once), and nothing of it is passed on.
        api.state.raw = b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nextra"
        empty = c.get(running.url("api", "/raw"))
        api.state.raw = (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
                         b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nplanted")
        sized = c.get(running.url("api", "/raw"))
        after = c.get(running.url("api", "/echo/after"))
    assert empty.status_code == 502 and b"extra" not in empty.content
    assert empty.json()["error"]["category"] == "connection_error"
    assert sized.status_code == 200 and sized.content == b"body"
    assert after.status_code == 200 and after.json()["path"] == "/echo/after"


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (300 * 1024) + b"\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n"
    b"0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nbody!",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4\r\nbody\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\nbody",
    b"HTTP/1.1 100 Continue\r\n\r\n" * 20000,
    b"HTTP/1.1 200 OK\r\nX-B: a\x01b\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX-B: a\x7fb\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX-B: caf\xe9\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok",
], ids=["head-over-256-KiB", "length-and-chunked", "two-lengths", "chunked-twice",
        "space-before-colon", "endless-1xx", "control-character", "DEL", "not-UTF-8",
        "status-099", "status-600"])
def test_an_answer_head_that_is_ambiguous_or_too_large_is_a_502(proxies, api, raw):
    running = proxies.start("api=0")
    api.state.raw = raw
    with client() as c:
        answer = c.get(running.url("api", "/raw"))
    assert answer.status_code == 502
    assert answer.json()["error"]["category"] == "connection_error"


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 4\r\n\r\nbody",
    b"HTTP/1.1 200 OK\nX-Folded: a b\nContent-Length: 4\n\nbody",
], ids=["obs-fold", "bare-LF"])
def test_an_answer_head_read_without_doubt_is_passed_on_in_a_head_of_the_proxys_own(
        proxies, api, raw):
    """aiohttp reads an API's obs-fold as one line (RFC 9112 §5.2 lets a
    recipient replace it with a space) and a bare LF as a line end; the
    length is not in doubt, and the scanner gets a head the proxy wrote."""
    running = proxies.start("api=0")
    api.state.raw = raw
    received = _raw(_port(running, "api"), b"GET /raw HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == b"body"
    assert b"\r\nX-Folded: a b\r\n" in head + b"\r\n"
    assert b"\n " not in head and head.count(b"\n") == head.count(b"\r\n")


@pytest.mark.parametrize("request_bytes", [
    b"POST /echo/s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
    b"\r\n0\r\n\r\nGET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /echo/s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n"
    b"\r\n0\r\n\r\n",
    b"POST /echo/s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nbody",
    b"POST /echo/s HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nbody",
    b"POST /echo/s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo/s HTTP/1.1\r\nHost: x\r\nContent-Length : 4\r\n\r\nbody",
    b"GET /echo/s HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
    b"GET /echo/s HTTP/1.1\nHost: x\n\n",
    b"GET /echo/s HTTP/1.1\r\nHost: x\r\nX: a\nY: b\r\n\r\n",
    b"POST /echo/s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\nbody\n0\n\n",
    b"GET /echo/s HTTP/1.1\r\nHost: x\r\nX-Escape: a\x1bb\r\n\r\n",
], ids=["length-and-chunked", "chunked-and-length", "two-lengths", "length-list",
        "chunked-twice", "space-before-colon", "obs-fold", "bare-LF",
        "bare-LF-in-a-field", "bare-LF-in-chunks", "control-character"])
def test_an_ambiguous_request_is_a_400_and_nothing_of_it_is_forwarded(proxies, api,
                                                                     request_bytes):
    running = proxies.start("api=0")
    received = _raw(_port(running, "api"), request_bytes)
    head, _, body = received.partition(b"\r\n\r\n")
    assert _refused(head, b"400 Bad Request")
    assert json.loads(body)["error"]["category"] == "bad_request"
    assert api.state.seen == []


def test_a_scanner_gone_mid_answer_leaves_no_api_connection_open(proxies, api):
    running = proxies.start("api=0")
    fds = f"/proc/{running.child.pid}/fd"

    def fewer_than(count: int) -> int:
        for _ in range(200):  # bounded: 10 s
            now = len(os.listdir(fds))
            if now < count:
                return now
            time.sleep(0.05)
        return now

    with client() as c:
        c.get(running.url("api", "/echo/warm")).raise_for_status()
        scanning = len(os.listdir(fds))
    before = fewer_than(scanning)  # that scanner's connection closed, the API's kept
    with socket.create_connection(("127.0.0.1", _port(running, "api")), timeout=30) as gone:
        gone.sendall(_own(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", _port(running, "api")))
        received = b""
        while b"second;" not in received:
            received += gone.recv(65536)
    # That API connection is closed, not pooled with the rest of its answer unread.
    assert fewer_than(before) == before - 1  # the kept one, which carried /stream
    api.release()
    with client() as c:
        assert c.get(running.url("api", "/echo/after")).json()["path"] == "/echo/after"
