"""An API that accepts only DPoP-bound access tokens with a valid proof (RFC 9449 §7).

The JOSE work is Authlib's (`authlib.jose`), a different implementation from
the joserfc that signs the proofs.  For each request it checks:

- `Authorization: DPoP <token>`; the token a JWT signed by the provider (its
  JWKS), for this API (`aud`), not expired, with `cnf.jkt`;
- exactly one `DPoP` header: a JWT with `typ: dpop+jwt`, an allowed `alg`, a
  public `jwk` (no private member), a valid signature by that key;
- its claims: `htm` the method, `htu` this URL without query and fragment,
  `iat` within 60 s of now, `jti` never seen before (replay), `ath` the
  token's SHA-256, `nonce` the API's current nonce (else 401 with
  `WWW-Authenticate: DPoP error="use_dpop_nonce"` and `DPoP-Nonce`, §9);
- the key's RFC 7638 thumbprint, computed here, equal to the token's `cnf.jkt`.

Every request is logged with its outcome; every answer carries the current
`DPoP-Nonce` (RFC 9449 §8.2 lets any answer give one), the OpenAPI description
at `/openapi.json` too, which needs no token (it is how a scanner's first
request learns the nonce).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socketserver
import threading
import time
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # Authlib announces that authlib.jose will move to joserfc: a different
    # implementation from the one under test is the point here.  (Importing
    # authlib.deprecate first: it adds an "always" filter of its own.)
    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken

ALGORITHMS = ["ES256", "PS256", "RS256", "EdDSA"]


@dataclass(frozen=True)
class Checked:
    method: str
    target: str
    ok: bool
    reason: str
    claims: dict[str, Any]


@dataclass
class DpopState:
    jwks: dict[str, Any]
    audience: str
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    seen_jti: set[str] = field(default_factory=set)
    log: list[Checked] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rotate_nonce(self) -> None:
        with self.lock:
            self.nonce = secrets.token_urlsafe(16)


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 of the required members, sorted, without whitespace."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
                "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"),
                           sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(value, dict)
    return value


class Refused(Exception):
    def __init__(self, reason: str, nonce: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.nonce = nonce


def check(state: DpopState, method: str, url: str, headers: list[tuple[str, str]]
          ) -> dict[str, Any]:
    authorization = [v for k, v in headers if k.lower() == "authorization"]
    proofs = [v for k, v in headers if k.lower() == "dpop"]
    if len(authorization) != 1 or not authorization[0].startswith("DPoP "):
        raise Refused("no DPoP authorization")
    token = authorization[0][5:]
    if len(proofs) != 1:
        raise Refused("not exactly one DPoP proof")
    proof = proofs[0]
    try:
        claims = JsonWebToken(["RS256", "ES256", "PS256"]).decode(
            token, JsonWebKey.import_key_set(state.jwks))
        claims.validate()
    except Exception as exc:  # noqa: BLE001 - any failure is a refusal
        raise Refused(f"token invalid: {type(exc).__name__}") from None
    if claims.get("aud") != state.audience:
        raise Refused("token for another audience")
    header = _segment(proof, 0)
    jwk = header.get("jwk")
    if header.get("typ") != "dpop+jwt" or header.get("alg") not in ALGORITHMS:
        raise Refused("proof header")
    if not isinstance(jwk, dict) or "d" in jwk or "p" in jwk:
        raise Refused("proof jwk missing or private")
    try:
        proved = JsonWebToken([header["alg"]]).decode(proof, JsonWebKey.import_key(jwk))
    except Exception as exc:  # noqa: BLE001
        raise Refused(f"proof signature: {type(exc).__name__}") from None
    if proved.get("htm") != method:
        raise Refused("htm")
    if proved.get("htu") != url.split("?")[0].split("#")[0]:
        raise Refused("htu")
    if not isinstance(proved.get("iat"), int) or abs(proved["iat"] - time.time()) > 60:
        raise Refused("iat")
    if proved.get("ath") != _b64(hashlib.sha256(token.encode()).digest()):
        raise Refused("ath")
    with state.lock:
        jti = proved.get("jti")
        if not isinstance(jti, str) or jti in state.seen_jti:
            raise Refused("jti replayed")
        state.seen_jti.add(jti)
        if proved.get("nonce") != state.nonce:
            raise Refused("nonce", nonce=True)
    if claims.get("cnf", {}).get("jkt") != thumbprint(jwk):
        raise Refused("cnf.jkt is not the proof key's thumbprint")
    return dict(proved)


class Handler(BaseHTTPRequestHandler):
    server: DpopApi  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        state = self.server.state
        if self.command == "GET" and self.path == "/openapi.json":
            from tests.servers.signed_api import OPENAPI

            document = json.dumps(OPENAPI).encode()
            with state.lock:
                nonce = state.nonce
            self.send_response(200)
            for name, value in (("DPoP-Nonce", nonce), ("Content-Type", "application/json"),
                                ("Content-Length", str(len(document)))):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(document)
            return
        url = f"http://{self.headers.get('Host')}{self.path}"
        extra: list[tuple[str, str]] = []
        try:
            claims = check(state, self.command, url, list(self.headers.items()))
            status, reason = 200, ""
        except Refused as refused:
            status, reason, claims = 401, refused.reason, {}
            error = "use_dpop_nonce" if refused.nonce else "invalid_token"
            extra.append(("WWW-Authenticate",
                          f'DPoP algs="{" ".join(ALGORITHMS)}", error="{error}"'))
        with state.lock:
            state.log.append(Checked(self.command, self.path, status == 200, reason, claims))
            nonce = state.nonce
        body = json.dumps({"ok": status == 200, "reason": reason}).encode()
        self.send_response(status)
        for name, value in [*extra, ("DPoP-Nonce", nonce), ("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _any


class DpopApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, jwks: dict[str, Any], audience: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = DpopState(jwks, audience)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def server_bind(self) -> None:
        # HTTPServer's own looks the loopback address up (getfqdn): ~0.5 s here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def checked(self) -> list[Checked]:
        with self.state.lock:
            return list(self.state.log)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
