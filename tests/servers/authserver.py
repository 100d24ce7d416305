"""A real OAuth 2.0 authorization server on loopback: Authlib's, on Flask/Werkzeug.

astra-auth did not write this server: Authlib implements RFC 6749's grants,
client authentication and error answers.  This module only wires it up with a
few clients and one user, and counts the requests it receives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.fakes import CLIENT_SECRET, PASSWORD

SIGNING_KEY = b"test-signing-key-not-a-secret-of-the-suite"
ISSUER = "https://auth.test.invalid"
SCOPES = ["read:things", "write:things"]
USERS = {"john.doe": PASSWORD}
BOTH = {"client_secret_basic", "client_secret_post"}


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    grant_types: set[str]
    auth_methods: set[str] = field(default_factory=lambda: set(BOTH))
    expires_in: int = 3600

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return ""

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


CLIENTS = {
    c.client_id: c
    for c in [
        Client("scanner-app", CLIENT_SECRET, {"client_credentials", "password", "refresh_token"}),
        Client("post-only", CLIENT_SECRET, {"client_credentials"}, {"client_secret_post"}),
        Client("basic-only", CLIENT_SECRET, {"client_credentials"}, {"client_secret_basic"}),
        Client("cc-only", CLIENT_SECRET, {"client_credentials"}),
        Client("short-lived", CLIENT_SECRET, {"client_credentials"}, expires_in=30),
        # JWT exp is whole seconds: 6 s keeps the proxy's renewal (at 80 %, 4.8 s)
        # before the token's real end even when exp was rounded down.
        Client("blink", CLIENT_SECRET, {"client_credentials"}, expires_in=6),
    ]
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(BOTH)

    def authenticate_user(self, username: str, password: str):  # type: ignore[no-untyped-def]
        if USERS.get(username) == password:
            return {"id": username}
        # What most providers answer (Keycloak: "Invalid user credentials").
        raise InvalidGrantError("Invalid user credentials")


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(BOTH)


@dataclass
class RefreshRecord(TokenMixin):
    user: str | None
    client_id: str
    scope: str
    revoked: bool = False

    def check_client(self, client) -> bool:  # type: ignore[no-untyped-def]
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return 86400

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self):  # type: ignore[no-untyped-def]
        return {"id": self.user}

    def get_client(self):  # type: ignore[no-untyped-def]
        return CLIENTS[self.client_id]


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(BOTH)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str):  # type: ignore[no-untyped-def]
        record = self.server.state.refresh_tokens.get(refresh_token)
        if record and not record.revoked:
            return record
        return None

    def authenticate_user(self, credential):  # type: ignore[no-untyped-def]
        return {"id": credential.user}

    def revoke_old_credential(self, credential) -> None:  # type: ignore[no-untyped-def]
        credential.revoked = True


@dataclass
class State:
    requests: Counter = field(default_factory=Counter)
    grant_types: list[str] = field(default_factory=list)
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    revoked_access: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def build_app() -> tuple[Flask, State]:
    app = Flask("astra-auth-test-idp")
    state = State()

    def query_client(client_id: str):  # type: ignore[no-untyped-def]
        return CLIENTS.get(client_id)

    def save_token(token: dict, req) -> None:  # type: ignore[no-untyped-def]
        with state.lock:
            state.issued.append(token["access_token"])
            if "refresh_token" in token:
                state.refresh_tokens[token["refresh_token"]] = RefreshRecord(
                    user=req.user["id"] if req.user else None,
                    client_id=req.client.client_id,
                    scope=token.get("scope", ""),
                )

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.state = state  # type: ignore[attr-defined]

    def access_token(client, grant_type, user, scope):  # type: ignore[no-untyped-def]
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user["id"] if user else client.client_id,
                  "client_id": client.client_id, "iat": now, "exp": now + client.expires_in,
                  "jti": secrets.token_hex(8)}
        if scope:
            claims["scope"] = scope
        audience = request.form.get("audience")
        if audience:  # as Auth0 does: the requested audience becomes aud
            claims["aud"] = audience
        return make_jwt(claims)

    server.register_token_generator("default", BearerTokenGenerator(
        access_token_generator=access_token,
        refresh_token_generator=lambda *a, **k: secrets.token_urlsafe(32),
        expires_generator=lambda client, grant_type: client.expires_in,
    ))
    server.scopes_supported = SCOPES
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(PasswordGrant)
    server.register_grant(RefreshTokenGrant)

    @app.before_request
    def count() -> None:
        with state.lock:
            state.requests[request.path] += 1
            if request.path == "/oauth/token":
                state.grant_types.append(request.form.get("grant_type", ""))

    @app.post("/oauth/token")
    def token():  # type: ignore[no-untyped-def]
        return server.create_token_response()

    @app.get("/.well-known/oauth-authorization-server")
    def metadata():  # type: ignore[no-untyped-def]
        """RFC 8414 metadata, checked by Authlib's own model of it (no OpenID here)."""
        from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

        base = request.host_url.rstrip("/")
        document = AuthorizationServerMetadata({
            "issuer": base,
            "token_endpoint": f"{base}/oauth/token",
            "response_types_supported": ["token"],
            "grant_types_supported": ["client_credentials", "password", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
            "scopes_supported": SCOPES,
        })
        document.validate()
        return jsonify(dict(document))

    @app.get("/api/resource")
    def resource():  # type: ignore[no-untyped-def]
        """A protected API: 401 to a missing, bad, expired or revoked token."""
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        claims = verify_jwt(token)
        if claims is None or token in state.revoked_access or claims["exp"] <= time.time():
            return jsonify(error="invalid_token"), 401, {"WWW-Authenticate": "Bearer"}
        return jsonify(sub=claims["sub"], ok=True)

    @app.get("/api/orders")
    def orders():  # type: ignore[no-untyped-def]
        """An API that wants tokens for itself (aud = its base URL) with write:things."""
        auth = request.headers.get("Authorization", "")
        claims = verify_jwt(auth[7:] if auth.startswith("Bearer ") else "")
        if claims is None or claims["exp"] <= time.time():
            return jsonify(error="invalid_token"), 401, {"WWW-Authenticate": "Bearer"}
        if claims.get("aud") != request.host_url.rstrip("/"):
            return jsonify(error="invalid_token"), 401, {"WWW-Authenticate": (
                'Bearer error="invalid_token", error_description="the audience is wrong"')}
        if "write:things" not in claims.get("scope", "").split():
            return jsonify(error="insufficient_scope"), 403, {"WWW-Authenticate": (
                'Bearer error="insufficient_scope", scope="write:things"')}
        return jsonify(ok=True)

    return app, state


def verify_jwt(token: str) -> dict | None:
    try:
        header, payload, signature = token.split(".")
    except ValueError:
        return None
    expected = _b64(hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        return None
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class RunningServer:
    def __init__(self) -> None:
        self.app, self.state = build_app()
        self.httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.httpd.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.token_url = f"{self.base}/oauth/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def token_requests(self) -> int:
        return self.state.requests["/oauth/token"]

    def stop(self) -> None:
        self.httpd.shutdown()
