"""The API behind `astra-auth proxy` in the tests: it records every request.

A plain standard-library server (not aiohttp, which the proxy is built on), so
that the proxy's HTTP is checked against another implementation.  Paths:

- `/echo...` (any method, any path below): answers JSON about what arrived:
  method, path with query, headers, body length and SHA-256, and the identity
  (`client_id`) of a bearer token from the test authorization server, and
  whether it was valid (signed, not expired) when it arrived;
- `/hold`: waits until the test calls `release()` (a slow upstream);
- `/stream`: answers in chunks, the last one only after `release()`;
- `/refuse-first`: 401 (`invalid_token`) to the first token it sees, forever;
  200 with the echo to any other valid token;
- `/always-401`: 401 to everything;
- `/cut`: promises 100 bytes (`/cut?big`: 1,000,000), sends 10 and closes the
  connection;
- `/raw`: the bytes the test put in `state.raw`, in one write, as the whole
  answer (a hostile API); the connection closes after them;
- `/early`: answers 200 before it reads the request body, then reads it (as
  some APIs refuse an upload early) and records the request;
- `/vanish`: records the request, then closes the connection without an
  answer (a request the API may have acted on);
- `/token`: a token endpoint of its own (any client): the first token at
  once, every later one only after `release()` (a slow renewal).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.servers.authserver import verify_jwt


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body_length: int
    body_sha256: str
    chunked: bool

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


@dataclass
class UpstreamState:
    seen: list[Seen] = field(default_factory=list)
    # A condition, so that a test can wait for a count to reach a number.
    lock: threading.Condition = field(default_factory=threading.Condition)
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    refused_token: str | None = None
    raw: bytes = b""
    raw_sent: threading.Event = field(default_factory=threading.Event)
    raw_count: int = 0
    tokens: int = 0
    renewing: threading.Event = field(default_factory=threading.Event)
    answered_early: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    server: Upstream  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _read_body(self) -> tuple[bytes, bool]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(data), True
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(length) if length else b""), False

    def _json(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        if self.path == "/early":
            self._json(200, {"early": True})
            self.wfile.flush()
            self.server.state.answered_early.set()
        body, chunked = self._read_body()
        seen = Seen(self.command, self.path, list(self.headers.items()), len(body),
                    hashlib.sha256(body).hexdigest(), chunked)
        state = self.server.state
        with state.lock:
            state.seen.append(seen)
        path = self.path.split("?", 1)[0]
        token = _bearer(seen.header("Authorization"))
        claims = verify_jwt(token) if token else None
        echo = {"method": seen.method, "path": seen.path, "headers": seen.headers,
                "body_length": seen.body_length, "body_sha256": seen.body_sha256,
                "chunked": chunked, "client_id": (claims or {}).get("client_id"),
                "valid": claims is not None and claims["exp"] > time.time()}
        if path == "/early":
            pass  # answered above
        elif path == "/vanish":
            self.close_connection = True
        elif path == "/raw":
            self.wfile.write(state.raw)
            with state.lock:
                state.raw_count += 1
                state.lock.notify_all()
            state.raw_sent.set()
            self.close_connection = True
        elif path == "/token":
            with state.lock:
                state.tokens += 1
                count = state.tokens
            if count > 1:
                state.renewing.set()
                state.released.wait(30)
            self._json(200, {"access_token": f"upstream-issued-{count}", "token_type": "Bearer",
                             "expires_in": 3600})
        elif path == "/hold":
            state.arrived.set()
            state.released.wait(30)
            self._json(200, echo)
        elif path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first;", b"second;"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            state.arrived.set()
            state.released.wait(30)
            self.wfile.write(b"5\r\nlast;\r\n0\r\n\r\n")
        elif path == "/refuse-first":
            with state.lock:
                if state.refused_token is None:
                    state.refused_token = token
                refused = token is None or token == state.refused_token
            if refused:
                self._json(401, {"error": "invalid_token"},
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            else:
                self._json(200, echo)
        elif path == "/always-401":
            self._json(401, {"error": "invalid_token"},
                       {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        elif path == "/close-after":
            # Closes its end after answering, without saying so: a kept-alive
            # connection that goes stale under the proxy's feet.
            self._json(200, echo)
            self.close_connection = True
        elif path == "/cut":
            self.send_response(200)
            # /cut?big promises more than the proxy reads whole before answering.
            self.send_header("Content-Length", "1000000" if "big" in self.path else "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        else:
            self._json(200, echo, {"Set-Cookie": "a=1", "X-Upstream": "yes",
                                   "Connection": "keep-alive, X-Private",
                                   "X-Private": "hop"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def _bearer(value: str | None) -> str | None:
    if value and value.startswith("Bearer "):
        return value[7:]
    return None


class Upstream(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # as a real API's: not 5 connections waiting to be accepted

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = UpstreamState()
        self.url = f"http://127.0.0.1:{self.server_port}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a proxy that closes mid-answer (as it must, at times) breaks the pipe

    def release(self) -> None:
        self.state.released.set()

    def stop(self) -> None:
        self.state.released.set()
        self.shutdown()
        self.server_close()
