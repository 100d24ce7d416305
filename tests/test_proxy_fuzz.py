"""Generated request heads and bodies, valid, ambiguous and garbage, thrown at
one running proxy.  Whatever comes:

- the proxy never crashes and never hangs (each exchange ends, and a plain
  request is answered after it);
- an ambiguous request (two lengths, a length with chunked, another transfer
  coding, obs-fold, a bare LF, a control character, a foreign or second Host,
  a web page's Origin) never reaches the API;
- the proxy never hands the credential back to the client;
- every answer is the API's, or the proxy's own with one of its categories.

The examples are derived, not random (`derandomize`), so a failure is the
same on every run; there are few enough for a few seconds.
"""

# `proxies` comes from tests/conftest.py, the other fixtures from tests/test_proxy.py;
# pytest injects them by name.
# ruff: noqa: F811

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.proxies import client
from tests.test_proxy import (  # noqa: F401 - fixtures
    _port,
    _quiet_test_idp,
    upstream,
)

TOKEN = "fz-0c9a41e7b25d4f3a8e6b"
API_BODY = b'{"from": "the API"}'
OWN = {"not_a_forward_proxy": {400}, "bad_request": {400, 501},
       "request_too_large": {431}, "host_not_allowed": {421}, "cross_origin_refused": {403}}


@dataclass
class Request:
    data: bytes
    ambiguous: bool  # must never reach the API
    head: bool = False  # HEAD: no answer has a body
    http1: bool = True  # HTTP/1.0 or 1.1: else the proxy closes without an answer


def _line(name: bytes, value: bytes, end: bytes = b"\r\n") -> bytes:
    return name + b": " + value + end


@st.composite
def requests(draw: st.DrawFn, port: int) -> Request:
    ambiguous = False
    method = draw(st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS",
                                   b"HEAD", b"CONNECT", b"G\x00T", b"\x16\x03\x01"]))
    if method not in (b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"HEAD"):
        ambiguous = True
    query = draw(st.binary(max_size=12).map(lambda b: b.hex().encode()))
    target = draw(st.sampled_from([b"/raw?" + query, b"/raw", b"http://127.0.0.1/raw", b"*",
                                   b"/raw#" + query, b"/r\xffaw"]))
    if not target.startswith(b"/raw") or b"\xff" in target:
        ambiguous = True
    version = draw(st.sampled_from([b"HTTP/1.1"] * 6 + [b"HTTP/1.0", b"HTTP/2.0", b"HTP/1.1"]))
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        ambiguous = True
    fields: list[bytes] = []
    host = draw(st.sampled_from(["own", "own", "own", "foreign", "two", "none"]))
    if host in ("own", "two"):
        fields.append(_line(b"Host", b"127.0.0.1:%d" % port))
    if host in ("foreign", "two"):
        fields.append(_line(b"Host", b"attacker.example:%d" % port))
        ambiguous = True
    if host == "none" and version == b"HTTP/1.1":
        ambiguous = True
    body = b""
    framing = draw(st.sampled_from(["none", "length", "chunked", "length+chunked",
                                    "two-lengths", "gzip", "bad-length"]))
    payload = draw(st.binary(max_size=64))
    if framing == "length":
        fields.append(_line(b"Content-Length", b"%d" % len(payload)))
        body = payload
    elif framing == "chunked":
        fields.append(_line(b"Transfer-Encoding", b"chunked"))
        body = (b"%x\r\n%b\r\n" % (len(payload), payload) if payload else b"") + b"0\r\n\r\n"
    elif framing == "length+chunked":
        fields += [_line(b"Content-Length", b"%d" % len(payload)),
                   _line(b"Transfer-Encoding", b"chunked")]
        body, ambiguous = payload, True
    elif framing == "two-lengths":
        fields += [_line(b"Content-Length", b"%d" % len(payload)),
                   _line(b"Content-Length", b"%d" % (len(payload) + 1))]
        body, ambiguous = payload, True
    elif framing == "gzip":
        fields.append(_line(b"Transfer-Encoding", b"gzip, chunked"))
        body, ambiguous = b"3\r\n\x1f\x8b\x08\r\n0\r\n\r\n", True
    elif framing == "bad-length":
        fields.append(_line(b"Content-Length", draw(st.sampled_from([b"-1", b"4, 4", b"0x10",
                                                                     b"1e3", b" "]))))
        body, ambiguous = payload, True
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        kind = draw(st.sampled_from(["plain", "binary", "fold", "bare-lf", "control", "origin",
                                     "fetch-site", "credential", "anonymous", "expect"]))
        if kind == "plain":
            name = draw(st.from_regex(rb"\AX-[A-Za-z0-9-]{1,12}\Z"))
            fields.append(_line(name, draw(st.from_regex(rb"\A[ -~]{0,40}\Z")).strip()))
        elif kind == "binary":
            value = draw(st.binary(min_size=1, max_size=24))
            fields.append(_line(b"X-Binary", value))
            if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value):
                ambiguous = True
        elif kind == "fold":
            fields.append(b"X-Folded: a\r\n b\r\n")
            ambiguous = True
        elif kind == "bare-lf":
            fields.append(_line(b"X-Bare", b"lf", b"\n"))
            ambiguous = True
        elif kind == "control":
            fields.append(_line(b"X-Control", b"a" + draw(st.sampled_from(
                [b"\x00", b"\x1b", b"\r", b"\x7f"])) + b"b"))
            ambiguous = True
        elif kind == "origin":
            fields.append(_line(b"Origin", draw(st.sampled_from(
                [b"http://attacker.example", b"null", b"http://localhost:3000"]))))
            ambiguous = True
        elif kind == "fetch-site":
            site = draw(st.sampled_from([b"cross-site", b"same-site", b"same-origin", b"none"]))
            fields.append(_line(b"Sec-Fetch-Site", site))
            ambiguous = ambiguous or site in (b"cross-site", b"same-site")
        elif kind == "credential":
            fields.append(_line(b"Authorization", b"Bearer forged-by-the-scanner"))
        elif kind == "anonymous":
            fields.append(_line(b"X-Astra-Auth", b"none"))
        else:
            fields.append(_line(b"Expect", b"100-continue"))
    draw(st.randoms()).shuffle(fields)
    head = method + b" " + target + b" " + version + b"\r\n" + b"".join(fields)
    return Request(head + b"Connection: close\r\n\r\n" + body, ambiguous,
                   head=method == b"HEAD", http1=version in (b"HTTP/1.1", b"HTTP/1.0"))


def _exchange(port: int, data: bytes) -> bytes:
    """Send, then read until the proxy closes: a proxy that neither answers nor
    closes fails the test (socket timeout), as a hang."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(data)
        received = b""
        while part := sock.recv(65536):
            received += part
        return received


def test_whatever_is_sent_the_proxy_holds(proxies, proc, upstream, leaks):
    leaks.watch(TOKEN)
    proc("configure", "fz", "--auth-type", "bearer", "--secrets", "env", "--url",
         upstream.url, "--no-input")
    upstream.state.raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(API_BODY) + API_BODY)
    running = proxies.start("fz=0", "--timeout", "1",
                            env={"ASTRA_AUTH_FZ_BEARER_TOKEN": TOKEN})
    port = _port(running, "fz")
    answers: list[bytes] = []

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(request=requests(port))
    def hold(request: Request) -> None:
        reached = len(upstream.state.seen)  # grows as a request arrives, before its answer
        received = _exchange(port, request.data)
        answers.append(received)
        assert running.child.poll() is None, "the proxy exited"
        assert TOKEN.encode() not in received and TOKEN[:8].encode() not in received
        if request.ambiguous:
            assert len(upstream.state.seen) == reached, request.data
        if not request.http1 and not received:
            return  # no HTTP/1 status line would be understood: closed unanswered
        # Past any interim 100 Continue, one answer: the API's, or the proxy's own.
        answer = re.sub(rb"\AHTTP/1\.1 100 Continue\r\n\r\n", b"", received)
        status_line, _, rest = answer.partition(b"\r\n")
        match = re.fullmatch(rb"HTTP/1\.[01] (\d{3}) .*", status_line)
        assert match is not None, received[:200]
        status = int(match.group(1))
        body = rest.partition(b"\r\n\r\n")[2]
        if status == 200 and body == (b"" if request.head else API_BODY):
            return
        if request.head:  # the proxy's own answer, without its body
            assert status in {*(s for c in OWN.values() for s in c), 502, 504}, received
            return
        assert body.startswith(b"{"), (request.data, received)
        error = json.loads(body)["error"]
        assert status in OWN.get(error["category"], {502, 504}), (status, error)
        assert error["category"] in OWN or status in (502, 504), error

    hold()
    # Still serving, and it says so to a plain request.
    with client() as c:
        answer = c.get(running.url("fz", "/raw"))
    assert answer.status_code == 200 and answer.content == API_BODY
    leaks.record("the proxy's answers", b"\n".join(answers).decode("latin-1"))
