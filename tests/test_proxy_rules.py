"""`astra-auth proxy`'s forwarding rules, each stated on its own: what of the
scanner's request reaches the API, what of the API's answer reaches the
scanner, and which 401 leads to a renewal.

A real proxy process in front of an API of this file's own (a standard-library
server that records what it receives and has its own token endpoint).
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

CLIENT_SECRET = "cs-proxy-rules-Qm83xZ"
ADDRESS = re.compile(r"^api: (http://\S+) \(forwards to ")


class Api:
    """An API with a token endpoint: `/token` issues `at-rules-1`, `-2`...;
    `/echo` records the headers it got; HEAD `/sized` answers with a length
    and no body; `/scope-401` refuses every token for its scope; `/large`
    answers 100 KiB with its length; TRACE echoes the request."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.seen: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self) -> None:
                api.seen.append((self.command, self.path,
                                 {k.lower(): v for k, v in self.headers.items()}))

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                token = f"at-rules-{len(api.issued) + 1}"
                api.issued.append(token)
                body = json.dumps({"access_token": token, "token_type": "Bearer",
                                   "expires_in": 3600}).encode()
                self._send(200, body, {"Content-Type": "application/json",
                                       "Content-Length": str(len(body))})

            def do_GET(self) -> None:  # noqa: N802
                self._record()
                if self.path == "/scope-401":
                    body = b'{"error":"insufficient_scope"}'
                    self._send(401, body, {
                        "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                                            'scope="admin"',
                        "Content-Type": "application/json", "Content-Length": str(len(body))})
                    return
                if self.path == "/large":  # larger than the proxy reads whole
                    body = bytes(range(256)) * 400
                    self._send(200, body, {"Content-Type": "application/octet-stream",
                                           "Content-Length": str(len(body))})
                    return
                self._send(200, b"{}", {"Content-Type": "application/json",
                                        "Content-Length": "2"})

            def do_HEAD(self) -> None:  # noqa: N802
                self._record()
                # The length of the body a GET would have, and no body (RFC 9110 §9.3.2).
                self._send(200, b"", {"Content-Type": "application/octet-stream",
                                      "Content-Length": "1234"})

            def do_TRACE(self) -> None:  # noqa: N802
                # As a server with TRACE enabled does: the request head echoed
                # back as the body (RFC 9110 §9.3.8).
                self._record()
                echo = (self.requestline + "\r\n" + str(self.headers)).encode()
                self._send(200, echo, {"Content-Type": "message/http",
                                       "Content-Length": str(len(echo))})

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [headers for _, seen_path, headers in self.seen if seen_path == path]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Proxy:
    def __init__(self, env: dict[str, str]) -> None:
        self.child = subprocess.Popen(
            [sys.executable, "-m", "astra_auth", "proxy", "api=0"], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        lines: queue.Queue[str | None] = queue.Queue()
        self.err: list[str] = []
        self.out: list[str] = []

        def pump_out() -> None:
            assert self.child.stdout is not None
            for line in self.child.stdout:
                self.out.append(line)
                lines.put(line)
            lines.put(None)

        def pump_err() -> None:
            assert self.child.stderr is not None
            for line in self.child.stderr:
                self.err.append(line)

        threading.Thread(target=pump_out, daemon=True).start()
        threading.Thread(target=pump_err, daemon=True).start()
        while True:
            line = lines.get(timeout=30)
            if line is None:
                raise AssertionError(f"the proxy exited: {''.join(self.err)}")
            match = ADDRESS.match(line)
            if match:
                self.url = match.group(1)
                return

    def stop(self) -> str:
        self.child.terminate()
        assert self.child.wait(30) == 0
        return "".join(self.out + self.err)


@pytest.fixture
def api() -> Iterator[Api]:
    server = Api()
    yield server
    server.stop()


@pytest.fixture
def proxy(proc, api, leaks) -> Iterator[Proxy]:  # type: ignore[no-untyped-def]
    leaks.watch(CLIENT_SECRET)
    proc("configure", "api", "--grant-type", "client_credentials", "--token-url",
         api.url + "/token", "--client-id", "rules-app", "--secrets", "env", "--url", api.url,
         "--no-input")
    running = Proxy(dict(proc.env, ASTRA_AUTH_CLIENT_SECRET=CLIENT_SECRET))
    yield running
    output = running.stop()
    leaks.watch(*api.issued)
    leaks.record("proxy output", output)
    assert "Traceback" not in output


def client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=30)


def test_the_scanners_proxy_authorization_never_reaches_the_api(proxy, api):
    with client() as c:
        answer = c.get(proxy.url + "/echo", headers={
            "Proxy-Authorization": "Basic c2Nhbm5lcjpzM2NyZXQ=",
            "Proxy-Authenticate": "Basic", "X-Kept": "yes"})
    assert answer.status_code == 200
    [seen] = api.requests_to("/echo")
    assert "proxy-authorization" not in seen
    assert "proxy-authenticate" not in seen
    assert seen["x-kept"] == "yes"
    assert seen["authorization"] == "Bearer at-rules-1"


def test_the_answer_to_head_keeps_its_content_length(proxy, api):
    with client() as c:
        answer = c.head(proxy.url + "/sized")
        after = c.get(proxy.url + "/echo")  # the connection is still in step
    assert answer.status_code == 200
    assert answer.headers["Content-Length"] == "1234"
    assert answer.content == b""
    assert after.status_code == 200
    assert [method for method, path, _ in api.seen if path == "/sized"] == ["HEAD"]


def test_a_401_for_insufficient_scope_is_passed_on_without_renewal_or_retry(proxy, api):
    with client() as c:
        assert c.get(proxy.url + "/echo").status_code == 200  # the first token
        answer = c.get(proxy.url + "/scope-401")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="admin"'
    # One request, one token: a new token would not have the scope either.
    assert [h["authorization"] for h in api.requests_to("/scope-401")] == ["Bearer at-rules-1"]
    assert api.issued == ["at-rules-1"]


def test_a_trace_goes_without_the_credential_so_its_echo_cannot_show_it(proxy, api):
    with client() as c:
        assert c.get(proxy.url + "/echo").status_code == 200  # a token is in hand
        answer = c.request("TRACE", proxy.url + "/echo", headers={"X-Kept": "yes"})
    assert answer.status_code == 200
    assert answer.text.startswith("TRACE /echo HTTP/1.1\r\n")
    assert "at-rules-" not in answer.text
    traced = [h for method, _, h in api.seen if method == "TRACE"]
    assert len(traced) == 1
    assert "authorization" not in traced[0]
    assert traced[0]["x-kept"] == "yes"


def test_a_large_answer_streams_back_with_the_api_s_own_length(proxy, api):
    with client() as c:
        answer = c.get(proxy.url + "/large")
    assert answer.status_code == 200
    assert answer.headers["Content-Length"] == "102400"
    assert "Transfer-Encoding" not in answer.headers
    assert answer.content == bytes(range(256)) * 400
