"""APIs behind HTTP Digest (RFC 7616), answered by servers nobody here wrote.

- `DigestApi`: Flask-HTTPAuth's `HTTPDigestAuth` (MD5 or MD5-sess, qop=auth)
  computes and compares every response.  Its nonces live here, not in Flask's
  session cookie: each has a state, so that the test can make them stale, and
  a request answering a stale nonce gets a new challenge with `stale=TRUE`
  (RFC 7616 §3.3).  Every Authorization header that arrives is logged.
- `Lighttpd`: lighttpd's mod_auth (a C implementation) for SHA-256, which
  Flask-HTTPAuth does not offer; a plain-text user file, `algorithm` as asked.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, jsonify, request
from flask_httpauth import HTTPDigestAuth
from werkzeug.serving import make_server

REALM = "astra-digest"


@dataclass
class DigestState:
    users: dict[str, str]
    nonces: dict[str, str] = field(default_factory=dict)  # nonce -> "fresh" | "stale"
    opaque: str = field(default_factory=lambda: secrets.token_hex(16))
    authorizations: list[str | None] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def make_stale(self) -> None:
        with self.lock:
            for nonce in self.nonces:
                self.nonces[nonce] = "stale"


class _StaleAware(HTTPDigestAuth):
    """Flask-HTTPAuth's Digest, with `stale=TRUE` on a challenge that answers a
    request whose only fault was a stale nonce."""

    def __init__(self, state: DigestState, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state

    def authenticate_header(self) -> str:
        header = str(super().authenticate_header())
        auth = request.authorization
        if auth is not None and self.state.nonces.get(auth.nonce or "") == "stale":
            header += ",stale=TRUE"
        return header


def build_app(state: DigestState, algorithm: str) -> Flask:
    app = Flask("astra-auth-digest-api")
    auth = _StaleAware(state, realm=REALM, qop="auth", algorithm=algorithm)

    @auth.generate_nonce
    def generate_nonce() -> str:
        nonce = secrets.token_hex(16)
        with state.lock:
            state.nonces[nonce] = "fresh"
        return nonce

    @auth.verify_nonce
    def verify_nonce(nonce: str) -> bool:
        with state.lock:
            return state.nonces.get(nonce) == "fresh"

    @auth.generate_opaque
    def generate_opaque() -> str:
        return state.opaque

    @auth.verify_opaque
    def verify_opaque(opaque: str) -> bool:
        return opaque == state.opaque

    @auth.get_password
    def get_password(username: str) -> str | None:
        return state.users.get(username)

    @app.before_request
    def log_authorization() -> None:
        with state.lock:
            state.authorizations.append(request.headers.get("Authorization"))

    @app.after_request
    def log_status(response):  # type: ignore[no-untyped-def]
        with state.lock:
            state.statuses.append(response.status_code)
        return response

    @app.route("/things", methods=["GET", "POST"])
    @app.route("/things/<path:rest>", methods=["GET", "POST"])
    @auth.login_required
    def things(rest: str = ""):  # type: ignore[no-untyped-def]
        return jsonify(user=auth.current_user(), path=request.full_path.rstrip("?"))

    return app


class DigestApi:
    def __init__(self, users: dict[str, str], algorithm: str = "MD5") -> None:
        self.state = DigestState(users)
        self.app = build_app(self.state, algorithm)
        self.httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()


class Lighttpd:
    """lighttpd with mod_auth's Digest on every path, in a folder of its own."""

    def __init__(self, folder: Path, users: dict[str, str], algorithm: str) -> None:
        self.folder = folder
        (folder / "www" / "things").mkdir(parents=True)
        (folder / "www" / "things" / "index.txt").write_text("a thing\n")
        (folder / "users").write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
        # A socket bound and listening here, handed over as systemd would
        # (fd 3, LISTEN_FDS, LISTEN_PID): no other process can take the port
        # between choosing it and lighttpd's start, and connections wait in its
        # backlog until lighttpd accepts them.
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        (folder / "lighttpd.conf").write_text(f"""
server.document-root = "{folder / 'www'}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.systemd-socket-activation = "enable"
server.errorlog = "{folder / 'error.log'}"
server.modules += ( "mod_auth", "mod_authn_file" )
auth.backend = "plain"
auth.backend.plain.userfile = "{folder / 'users'}"
auth.require = ( "/" => ( "method" => "digest", "algorithm" => "{algorithm}",
                          "realm" => "{REALM}", "require" => "valid-user" ) )
""")
        self.base = f"http://127.0.0.1:{self.port}"
        with listener:
            # The shell's pid is lighttpd's once it execs; bash, as dash reads one digit
            # of a descriptor's number.
            script = f'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -D -f "$1" 3<&{listener.fileno()}'
            self.process = subprocess.Popen(
                ["bash", "-c", script, str(shutil.which("lighttpd")),
                 str(folder / "lighttpd.conf")],
                pass_fds=[listener.fileno()], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
