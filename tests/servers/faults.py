"""A small server of our own for broken answers: each path answers one way wrongly.

Real providers, gateways and proxies answer like this; the real authorization
server never would.  Every request is recorded, so tests can prove that a
redirect target received no credentials.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus

# What the misbehaving paths below hand out; tests give them to the leak guard.
NO_ROTATION_REFRESH = "rt-kept-not-rotated-5d1e7a90c3b2"
SESSION_COOKIE = "session-cookie-value-8c2f41d7"

LOGIN_PAGE = b"""<!DOCTYPE html>
<html><head><title>Sign in - Example Corp</title></head>
<body><form method="post"><input name="user"><input type="password" name="pw"></form></body>
</html>"""


def echo_forms(secret: str) -> str:
    """The secret in part and encoded, as careless or hostile providers echo it:
    each form shows at least 8 of its characters (for a secret of 16 or more)."""
    data = secret.encode()
    quarter = max(len(secret) // 4, 1)
    forms = {
        "prefix": secret[:-3],
        "suffix": secret[3:],
        "lower": secret.lower(),
        "upper": secret.upper(),
        "spaced": " ".join(secret),
        "hex-entities": "".join(f"&#x{ord(c):X};" for c in secret),
        "padded-decimal": "".join(f"&#{ord(c):04d};" for c in secret),
        "every-other-percent": "".join(
            "".join(f"%{b:02X}" for b in c.encode()) if i % 2 else c
            for i, c in enumerate(secret)),
        "u-escapes": "".join(f"\\u{ord(c):04x}" for c in secret),
        "base64-offset-1": base64.b64encode(b"x" + data + b"yz").decode(),
        "base64-offset-2": base64.urlsafe_b64encode(b"xy" + data).decode(),
        "utf16-hex": secret.encode("utf-16-be").hex(),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in secret),
        "middle": secret[quarter:-quarter],
    }
    return "; ".join(f"{name}={shown}" for name, shown in forms.items())


class Handler(BaseHTTPRequestHandler):
    server: FaultServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # silence stderr
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def do_GET(self) -> None:  # noqa: N802
        self.do_POST()

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.log.append((path, dict(self.headers.items()), body))
            scripted = self.server.scripted.get(path)
        if scripted is not None:
            self._scripted(scripted)
            return
        handler = getattr(self, "path_" + path.strip("/").replace("-", "_"), None)
        if handler is None:
            self._json(404, {"detail": "no such fault"})
            return
        handler(body)

    def _scripted(self, answer: Answer) -> None:
        self.send_response(answer.status)
        headers = {"Content-Type": answer.content_type, **answer.headers}
        headers.setdefault("Content-Length", str(len(answer.body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            if answer.trickle is None:
                self.wfile.write(answer.body)
                return
            for byte in answer.body:  # one byte at a time, never tripping a read timeout
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(answer.trickle)
        except OSError:
            pass

    # --- each path answers one way wrongly ---------------------------------

    def path_html(self, body: bytes) -> None:
        self._send(200, LOGIN_PAGE, "text/html; charset=utf-8")

    def path_not_found(self, body: bytes) -> None:
        self._send(404, b"Not Found", "text/plain")

    def path_method(self, body: bytes) -> None:
        self._send(405, b"", "text/plain", {"Allow": "GET, HEAD"})

    def path_rate(self, body: bytes) -> None:
        self._json(429, {"message": "slow down"}, {"Retry-After": "30"})

    def path_server(self, body: bytes) -> None:
        self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html")

    def path_forbidden(self, body: bytes) -> None:
        self._send(403, b"Request blocked by WAF", "text/plain")

    def path_bare_401(self, body: bytes) -> None:
        self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="x"'})

    def path_elsewhere(self, body: bytes) -> None:
        # Another origin's API: records what it was sent (the log), answers 200.
        self._json(200, {"ok": True})

    def path_scope_401(self, body: bytes) -> None:
        # RFC 6750 §3.1: the token is fine, it lacks a scope; a new one will not help.
        self._send(401, b"", "text/plain", {
            "WWW-Authenticate": 'Bearer error="insufficient_scope", scope="admin:things"'})

    def path_token_401(self, body: bytes) -> None:
        self._send(401, b"", "text/plain", {
            "WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"'})

    def path_redirect(self, body: bytes) -> None:
        port = self.server.server_address[1]
        self._send(302, b"", "text/plain",
                   {"Location": f"http://127.0.0.1:{port}/capture"})

    def path_capture(self, body: bytes) -> None:
        self._json(200, {"access_token": "captured", "token_type": "Bearer"})

    def path_slow(self, body: bytes) -> None:
        time.sleep(5)
        self._json(200, {"access_token": "late-token", "token_type": "Bearer"})

    def path_trickle(self, body: bytes) -> None:
        payload = json.dumps({"access_token": "t" * 200, "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            for byte in payload:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def path_no_token(self, body: bytes) -> None:
        self._json(200, {"token_type": "Bearer", "expires_in": 3600})

    def path_not_object(self, body: bytes) -> None:
        self._json(200, ["access_token", "Bearer"])

    def path_plain_text(self, body: bytes) -> None:
        self._send(200, b"access_token=abc&token_type=bearer", "text/plain")

    def path_echo(self, body: bytes) -> None:
        """An error description that repeats everything it received."""
        auth = self.headers.get("Authorization", "")
        decoded = ""
        if auth.startswith("Basic "):
            decoded = unquote_plus(base64.b64decode(auth[6:]).decode("utf-8", "replace"))
        form = unquote_plus(body.decode("utf-8", "replace"))
        self._json(400, {
            "error": "invalid_client",
            "error_description": f"bad credentials {decoded} in {form} (raw {auth} {body!r})",
        })

    def _client_secret(self, body: bytes) -> str:
        """The client secret the request carried, in the Basic header or the form."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            pair = base64.b64decode(auth[6:]).decode("utf-8", "replace")
            return unquote_plus(pair.split(":", 1)[1])
        return parse_qs(body.decode("utf-8", "replace")).get("client_secret", [""])[0]

    def path_echo_forms(self, body: bytes) -> None:
        """An error description that echoes the client secret in part and encoded."""
        self._json(400, {"error": "invalid_client",
                         "error_description": echo_forms(self._client_secret(body))})

    def path_jwt_echo(self, body: bytes) -> None:
        """A JWT access token that carries the client secret in a claim."""
        from tests.servers.authserver import make_jwt

        secret = self._client_secret(body)
        token = make_jwt({"sub": "x", "exp": 4102444800, "debug": f"issued for {secret}",
                          "client_secret": secret})
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def path_jwt_header_echo(self, body: bytes) -> None:
        """A JWT access token that carries the client secret in its header."""
        import json

        from tests.servers.authserver import _b64, make_jwt

        secret = self._client_secret(body)
        _, payload, signature = make_jwt({"sub": "x", "exp": 4102444800}).split(".")
        header = _b64(json.dumps({"alg": "HS256", "kid": f"key of {secret}"}).encode())
        self._json(200, {"access_token": f"{header}.{payload}.{signature}",
                         "token_type": "Bearer", "expires_in": 3600})

    def path_set_cookie(self, body: bytes) -> None:
        self._json(200, {"access_token": "opaque-cookie-token-3e9d", "token_type": "Bearer",
                         "expires_in": 3600},
                   headers={"Set-Cookie": f"sid={SESSION_COOKIE}; Path=/; HttpOnly"})

    def path_no_rotation(self, body: bytes) -> None:
        """Issues one refresh token; refresh answers carry none (RFC 6749 §6 allows it)."""
        form = parse_qs(body.decode("utf-8", "replace"))
        with self.server.lock:
            self.server.issued += 1
            number = self.server.issued
        if form.get("grant_type") == ["refresh_token"]:
            if form.get("refresh_token") != [NO_ROTATION_REFRESH]:
                self._json(400, {"error": "invalid_grant"})
                return
            self._json(200, {"access_token": f"opaque-refreshed-{number}",
                             "token_type": "Bearer", "expires_in": 3600})
            return
        self._json(200, {"access_token": f"opaque-granted-{number}", "token_type": "Bearer",
                         "expires_in": 3600, "refresh_token": NO_ROTATION_REFRESH})

    def path_custom_error(self, body: bytes) -> None:
        self._json(400, {"error": "access_denied", "error_description": "Account disabled"})

    def path_string_expiry(self, body: bytes) -> None:
        self._json(200, {"access_token": "opaque-string-expiry-token-7f3a", "token_type": "bearer",
                         "expires_in": "3600"})

    def path_short(self, body: bytes) -> None:
        self._json(200, {"access_token": "opaque-short-token-91bc", "token_type": "Bearer",
                         "expires_in": 20})

    def path_no_expiry_jwt(self, body: bytes) -> None:
        from tests.servers.authserver import make_jwt

        token = make_jwt({"sub": "x", "exp": 4102444800})  # 2100-01-01
        self._json(200, {"access_token": token, "token_type": "Bearer"})

    def path_no_expiry_opaque(self, body: bytes) -> None:
        self._json(200, {"access_token": "opaque-no-expiry-token-55e1", "token_type": "Bearer"})

    def path_huge(self, body: bytes) -> None:
        payload = b'{"access_token": "' + b"x" * (2 * 1024 * 1024) + b'", "token_type": "Bearer"}'
        self._send(200, payload)

    def path_gzip_bomb(self, body: bytes) -> None:
        payload = gzip.compress(b"{" + b" " * (50 * 1024 * 1024) + b"}", compresslevel=9)
        self._send(200, payload, headers={"Content-Encoding": "gzip"})

    def path_reset(self, body: bytes) -> None:
        # Close the connection with RST instead of answering.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00"
                                   b"\x00\x00\x00\x00")
        self.connection.close()
        self.close_connection = True

    def _cut_off(self, framing: tuple[str, str], partial: bytes) -> None:
        """Promise a body with `framing`, send only `partial`, then hang up."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header(*framing)
        self.end_headers()
        self.wfile.write(partial)
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def path_truncated(self, body: bytes) -> None:
        self._cut_off(("Content-Length", "1000"), b'{"access_token": "tru')

    def path_chunked_truncated(self, body: bytes) -> None:
        self._cut_off(("Transfer-Encoding", "chunked"), b'10\r\n{"access_token": \r\n')

    def path_huge_headers(self, body: bytes) -> None:
        self.send_response(200)
        for i in range(2000):
            self.send_header(f"X-Filler-{i}", "y" * 100)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@dataclass
class Answer:
    """One scripted answer of the hostile provider (see FaultServer.answer)."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float | None = None  # seconds between bytes


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.scripted: dict[str, Answer] = {}
        self.log: list[tuple[str, dict[str, str], bytes]] = []
        self.issued = 0  # tokens handed out by /no-rotation
        self.port = self.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that stops reading (it should, at 1 MiB) breaks the pipe: expected.
        pass

    def answer(self, path: str, data: object = None, *, status: int = 200,
               body: bytes | None = None, content_type: str = "application/json",
               headers: dict[str, str] | None = None, trickle: float | None = None) -> str:
        """Make `path` (any path, `.well-known` ones included) answer this way; the
        hostile provider of issue 15.  Returns the path's URL.  Paths are unique
        per test (uuid) because the server is shared by the session."""
        if body is None:
            body = json.dumps(data).encode() if not isinstance(data, str) else data.encode()
        with self.lock:
            self.scripted["/" + path.lstrip("/")] = Answer(
                status, body, content_type, dict(headers or {}), trickle)
        return self.url(path.lstrip("/"))

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def requests_to(self, path: str) -> list[tuple[str, dict[str, str], bytes]]:
        with self.lock:
            return [r for r in self.log if r[0] == f"/{path}"]

    def stop(self) -> None:
        self.shutdown()
