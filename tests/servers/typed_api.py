"""A protected API that checks each auth type's credential exactly, on its own terms.

It verifies JWTs with the standard library's hmac and with cryptography
directly, not with the JOSE library that signs them, so that a mistake in the
signing path cannot be mirrored here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class TypedApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.expect: dict[str, object] = {}
        self.log: list[tuple[str, bool, str]] = []
        # Every request as received: path, headers, query.
        self.seen: list[tuple[str, dict[str, str], str]] = []
        self.lock = threading.Lock()
        self.now = time.time
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: TypedApi  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    # Fixed answers for the API check: status and headers, whatever is sent.
    CANNED: dict[str, tuple[int, dict[str, str]]] = {
        "/ok": (200, {}),
        "/bare-401": (401, {}),
        "/scope-403": (403, {"WWW-Authenticate":
                             'Bearer error="insufficient_scope", scope="admin:things"'}),
        "/moved": (302, {"Location": "https://elsewhere.example/login"}),
        "/boom": (500, {}),
        "/no-such-path": (404, {}),
        "/hostile-401": (401, {"WWW-Authenticate":
                               'Bearer error="invalid_token", error_description='
                               '"\x1b]52;c;ZXZpbA==\x07 \x9b2Jexpired"'}),
    }

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.seen.append((parts.path, dict(self.headers.items()), parts.query))
        if parts.path in self.CANNED:
            status, headers = self.CANNED[parts.path]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        check = getattr(self, "check_" + parts.path.strip("/").replace("-", "_"), None)
        ok, why = check(parts) if check else (False, "no such path")
        with self.server.lock:
            self.server.log.append((parts.path, ok, why))
        body = json.dumps({"ok": ok, "why": why}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if not ok:
            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        self.end_headers()
        self.wfile.write(body)

    # RFC 7617: "Basic " + base64(user-id ":" password), UTF-8.
    def check_basic(self, parts):  # type: ignore[no-untyped-def]
        user, password = self.server.expect["basic"]  # type: ignore[misc]
        want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        got = self.headers.get("Authorization")
        return got == want, "basic" if got == want else "wrong basic credentials"

    def check_bearer(self, parts):  # type: ignore[no-untyped-def]
        want = f"Bearer {self.server.expect['bearer']}"
        return self.headers.get("Authorization") == want, "bearer"

    def check_key_header(self, parts):  # type: ignore[no-untyped-def]
        name, value = self.server.expect["key"]  # type: ignore[misc]
        got = self.headers.get_all(name) or []
        return got == [value], f"{len(got)} header(s)"

    def check_key_query(self, parts):  # type: ignore[no-untyped-def]
        name, value = self.server.expect["key"]  # type: ignore[misc]
        got = parse_qs(parts.query).get(name, [])
        return got == [value], f"{len(got)} parameter(s)"

    def check_key_cookie(self, parts):  # type: ignore[no-untyped-def]
        name, value = self.server.expect["key"]  # type: ignore[misc]
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get(name)
        return morsel is not None and morsel.value == value, "cookie"

    def check_jwt(self, parts):  # type: ignore[no-untyped-def]
        spec = self.server.expect["jwt"]
        assert isinstance(spec, dict)
        header_value = self.headers.get(spec["header"], "")
        prefix = spec["prefix"]
        if prefix:
            if not header_value.startswith(prefix + " "):
                return False, "no prefix"
            header_value = header_value[len(prefix) + 1:]
        try:
            head_b64, claims_b64, sig_b64 = header_value.split(".")
            head = json.loads(_b64d(head_b64))
            claims = json.loads(_b64d(claims_b64))
        except ValueError:
            return False, "not a JWT"
        if head.get("alg") != spec["alg"]:
            return False, f"alg {head.get('alg')}"
        signed = f"{head_b64}.{claims_b64}".encode()
        if not _verify(spec["alg"], spec["key"], signed, _b64d(sig_b64)):
            return False, "bad signature"
        now = self.server.now()
        if not (isinstance(claims.get("iat"), int) and claims["iat"] <= now + 5):
            return False, "iat"
        if not (isinstance(claims.get("exp"), int) and claims["exp"] > now):
            return False, "expired"
        if not claims.get("jti"):
            return False, "jti"
        for name, value in spec["claims"].items():
            if claims.get(name) != value:
                return False, f"claim {name}"
        return True, claims["jti"]


def _verify(alg: str, key: object, signed: bytes, signature: bytes) -> bool:
    if alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        assert isinstance(key, bytes)
        return hmac.compare_digest(hmac.new(key, signed, digest).digest(), signature)
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

    try:
        if alg == "RS256":
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[attr-defined]
        elif alg == "PS256":
            key.verify(signature, signed,  # type: ignore[attr-defined]
                       padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                   salt_length=hashes.SHA256.digest_size), hashes.SHA256())
        else:  # ES256: JWS uses the raw r||s form (RFC 7518 §3.4)
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            key.verify(utils.encode_dss_signature(r, s), signed,  # type: ignore[attr-defined]
                       ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
