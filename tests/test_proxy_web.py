"""`astra-auth proxy` keeps web pages out: no page may use the credential.

A page on attacker.example that rebinds its name to 127.0.0.1 is same-origin
with the proxy and sends `Host: attacker.example:PORT`; a cross-site "simple"
POST sends an `Origin`.  Neither may reach the API with the scanner's
credential.  Real proxy processes, the recording upstream, raw sockets where
the headers matter.
"""

# `proxies` comes from tests/conftest.py, the other fixtures from tests/test_proxy.py;
# pytest injects them by name.
# ruff: noqa: F811

from __future__ import annotations

import json
import socket

import pytest

from tests.test_proxy import (  # noqa: F401 - fixtures
    _port,
    _quiet_test_idp,
    api,
    upstream,
)


def _send(port: int, head: bytes, body: bytes = b"") -> tuple[bytes, dict]:
    """One request as bytes; the answer's status line and JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        received = b""
        while part := sock.recv(65536):
            received += part
    status, _, rest = received.partition(b"\r\n")
    body_part = rest.partition(b"\r\n\r\n")[2]
    return status, json.loads(body_part) if body_part.startswith(b"{") else {}


def test_a_page_that_rebinds_its_name_never_reaches_the_api(proxies, api, idp):
    """The issue's reproduction: curl -H 'Host: attacker.example:18080'
    -H 'Origin: http://attacker.example' http://127.0.0.1:18080/x"""
    running = proxies.start("api=0")
    port = _port(running, "api")
    status, answer = _send(port, b"GET /x HTTP/1.1\r\nHost: attacker.example:%d\r\n"
                           b"Origin: http://attacker.example\r\nConnection: close\r\n\r\n"
                           % port)
    assert status == b"HTTP/1.1 421 Misdirected Request"
    assert answer["error"]["category"] == "host_not_allowed"
    assert answer["error"]["hint"] == (
        f"Send the scanner's requests to {running.addresses['api']}; to serve other names "
        "(a scanner on another machine), start the proxy with --allow-remote.")
    # Without Origin too: a rebinding page's GET carries none.
    status, answer = _send(port, b"GET /x HTTP/1.1\r\nHost: attacker.example:%d\r\n"
                           b"Connection: close\r\n\r\n" % port)
    assert status == b"HTTP/1.1 421 Misdirected Request"
    assert api.state.seen == []


def test_a_cross_site_simple_post_never_reaches_the_api(proxies, api):
    running = proxies.start("api=0")
    port = _port(running, "api")
    for marks in (b"Origin: http://attacker.example\r\n",
                  b"Sec-Fetch-Site: cross-site\r\n", b"Sec-Fetch-Site: same-site\r\n",
                  b"Origin: null\r\n"):
        status, answer = _send(
            port, b"POST /transfer HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%bContent-Type: "
            b"text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\n" % (port, marks),
            b"amount=")
        assert status == b"HTTP/1.1 403 Forbidden", marks
        assert answer["error"]["category"] == "cross_origin_refused"
        assert answer["error"]["hint"] == (
            "To let one origin use it on purpose, start the proxy with --allow-origin ORIGIN "
            "(e.g. --allow-origin http://localhost:3000).")
    assert api.state.seen == []


@pytest.mark.parametrize("host", [b"127.0.0.1:%d", b"localhost:%d", b"LOCALHOST:%d",
                                  b"[::1]:%d"])
def test_the_proxys_own_addresses_are_served(proxies, api, host):
    running = proxies.start("api=0")
    port = _port(running, "api")
    status, answer = _send(port, b"GET /echo/own HTTP/1.1\r\nHost: %b\r\n"
                           b"Sec-Fetch-Site: none\r\nConnection: close\r\n\r\n" % (host % port))
    assert status == b"HTTP/1.1 200 OK"
    assert answer["path"] == "/echo/own"


def test_allow_origin_admits_that_origin_and_no_other(proxies, api):
    running = proxies.start("api=0", "--allow-origin", "http://localhost:3000",
                            "--allow-origin", "HTTPS://App.Example:443/")
    port = _port(running, "api")
    admitted = []
    for origin in (b"http://localhost:3000", b"https://app.example"):
        status, answer = _send(port, b"GET /echo/page HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                               b"Origin: %b\r\nSec-Fetch-Site: cross-site\r\n"
                               b"Connection: close\r\n\r\n" % (port, origin))
        admitted.append(status)
    status, answer = _send(port, b"GET /echo/page HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                           b"Origin: http://localhost:3001\r\nConnection: close\r\n\r\n" % port)
    assert admitted == [b"HTTP/1.1 200 OK"] * 2
    assert status == b"HTTP/1.1 403 Forbidden"
    assert [s.header("Origin") for s in api.state.seen] == ["http://localhost:3000",
                                                            "https://app.example"]


def test_two_host_fields_are_a_400(proxies, api):
    running = proxies.start("api=0")
    port = _port(running, "api")
    status, answer = _send(port, b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                           b"Host: attacker.example\r\n\r\n" % port)
    assert status in (b"HTTP/1.1 400 Bad Request", b"HTTP/1.0 400 Bad Request")
    assert answer["error"]["category"] == "bad_request"
    assert api.state.seen == []


def test_allow_remote_serves_other_host_names(proxies, api):
    running = proxies.start("api=0", "--host", "127.0.0.1", "--allow-remote")
    port = _port(running, "api")
    status, _ = _send(port, b"GET /echo/remote HTTP/1.1\r\nHost: scanner-box.internal:%d\r\n"
                      b"Connection: close\r\n\r\n" % port)
    assert status == b"HTTP/1.1 200 OK"
    assert api.state.seen[-1].header("Host") == api.url.removeprefix("http://")


@pytest.mark.parametrize("origin", ["null", "localhost:3000", "http://localhost:3000/app",
                                    "ftp://example.com", "http://"])
def test_a_malformed_allow_origin_is_a_usage_error(cli, origin):
    cli("configure", "api", "--auth-type", "bearer", "--secrets", "env", "--url",
        "https://api.example.com", "--no-input")
    result = cli("proxy", "api=0", "--allow-origin", origin, expect=2)
    assert f"--allow-origin {origin!r}: give a web origin, scheme://host[:port]" in result.err


def test_allow_origin_is_in_help_and_completion(proc):
    assert "--allow-origin" in proc("proxy", "--help").out
    completed = proc("proxy", "api", "--allow-", env={
        "_ASTRA_AUTH_COMPLETE": "complete_bash", "COMP_WORDS": "astra-auth proxy api --allow-",
        "COMP_CWORD": "3"})
    assert "--allow-origin" in completed.out.split()
    assert "--allow-remote" in completed.out.split()
