"""A small protected API for the scanner tests, with tokens that live 3 seconds.

It serves its own OpenAPI document (`/openapi.json`), issues access tokens at
`/oauth/token` with Authlib's Client Credentials grant, and logs every API
request with whether the token it carried was valid when it arrived.  Tokens
are opaque and expire to the millisecond on the server's side, so that a
scanner that sends one a moment too late is caught.

Two clients: `scan-short` (tokens live `SHORT_LIFETIME` seconds: renewal under
a long scan) and `scan-steady` (`STEADY_LIFETIME`: tests about something else,
on a loaded machine).
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.fakes import CLIENT_SECRET
from tests.servers.authserver import Client, ClientCredentialsGrant

SHORT_LIFETIME = 3
STEADY_LIFETIME = 600
CLIENTS = {
    c.client_id: c for c in [
        Client("scan-short", CLIENT_SECRET, {"client_credentials"}, expires_in=SHORT_LIFETIME),
        Client("scan-steady", CLIENT_SECRET, {"client_credentials"},
               expires_in=STEADY_LIFETIME),
    ]
}

OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "astra-auth scanner test API", "version": "1.0.0"},
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                "additionalProperties": False,
            },
            "NewThing": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 40}},
            },
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
        },
        "responses": {
            "Unauthorized": {
                "description": "No valid token",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    },
    "security": [{"bearerAuth": []}],
    "paths": {
        "/things": {
            "get": {
                "operationId": "listThings",
                "responses": {
                    "200": {"description": "Every thing", "content": {"application/json": {
                        "schema": {"type": "array",
                                   "items": {"$ref": "#/components/schemas/Thing"}}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                },
            },
            "post": {
                "operationId": "createThing",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/NewThing"}}}},
                "responses": {
                    "201": {"description": "Created", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "400": {"description": "Not a thing", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                },
            },
        },
        "/things/{thing_id}": {
            "get": {
                "operationId": "getThing",
                "parameters": [{"name": "thing_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {
                    "200": {"description": "The thing", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "404": {"description": "No such thing", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                },
            },
        },
    },
}


# The same API with examples in its document, for Schemathesis's examples phase.
EXAMPLES: dict[str, Any] = copy.deepcopy(OPENAPI)
EXAMPLES["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"][
    "examples"] = {name: {"value": {"name": name}} for name in ("fork", "knife", "spoon")}
EXAMPLES["paths"]["/things/{thing_id}"]["get"]["parameters"][0]["examples"] = {
    name: {"value": value} for name, value in (("first", 1), ("second", 2), ("third", 3))}


@dataclass(frozen=True)
class Logged:
    """One API request as the API saw it."""

    method: str
    path: str
    valid: bool
    token: str | None = field(repr=False)
    client: str | None
    at: float


@dataclass
class IssuedToken:
    client: str
    expires_at: float


@dataclass
class State:
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    grants: int = 0
    # The API refuses this many of the first tokens issued, as if revoked: a
    # scanner must renew on the 401 and send the request again.
    refuse_first: int = 0
    refused: set[str] = field(default_factory=set)
    # A provider outage in the middle of a scan: once the API has seen this
    # many requests, the token endpoint answers 503.  The last request before
    # it is answered only once every token issued so far has expired, so that
    # the outage outlasts them however fast the scan runs ...
    outage_after: int | None = None
    # ... or, with this, the API refuses those tokens from then on, as an API
    # that asks the provider about each token (RFC 7662 introspection) would.
    outage_revokes: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def build_app() -> tuple[Flask, State]:
    app = Flask("astra-auth-scan-api")
    state = State()

    def save_token(token: dict, req) -> None:  # type: ignore[no-untyped-def]
        with state.lock:
            state.grants += 1
            if state.grants <= state.refuse_first:
                state.refused.add(token["access_token"])
            state.tokens[token["access_token"]] = IssuedToken(
                req.client.client_id, time.time() + token["expires_in"])

    server = AuthorizationServer(app, query_client=CLIENTS.get, save_token=save_token)
    server.register_token_generator("default", BearerTokenGenerator(
        access_token_generator=lambda *a, **k: secrets.token_urlsafe(24),
        expires_generator=lambda client, grant_type: client.expires_in,
    ))
    server.register_grant(ClientCredentialsGrant)
    things: dict[int, str] = {1: "first", 2: "second"}

    @app.post("/oauth/token")
    def token():  # type: ignore[no-untyped-def]
        with state.lock:
            down = state.outage_after is not None and len(state.log) >= state.outage_after
        if down:
            return jsonify(error="temporarily_unavailable"), 503
        return server.create_token_response()

    @app.get("/openapi.json")
    def openapi():  # type: ignore[no-untyped-def]
        return jsonify(OPENAPI)

    @app.get("/openapi-examples.json")
    def openapi_examples():  # type: ignore[no-untyped-def]
        return jsonify(EXAMPLES)

    @app.before_request
    def check_token():  # type: ignore[no-untyped-def]
        if not request.path.startswith("/things"):
            return None
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth[:7].lower() == "bearer " else None
        now = time.time()
        with state.lock:
            revoked = (state.outage_revokes and state.outage_after is not None
                       and len(state.log) >= state.outage_after)
            issued = state.tokens.get(token) if token else None
            valid = (issued is not None and now < issued.expires_at
                     and token not in state.refused and not revoked)
            state.log.append(Logged(request.method, request.path, valid, token,
                                    issued.client if issued else None, now))
            outage_starts = (len(state.log) == state.outage_after
                             and not state.outage_revokes)
            expired = max((t.expires_at for t in state.tokens.values()), default=now)
        if outage_starts:
            # The scanner notes a token's expiry a moment after the server.
            time.sleep(max(0.0, expired + 0.2 - time.time()))
        if not valid:
            error = "invalid_token" if token else None
            challenge = f'Bearer error="{error}"' if error else "Bearer"
            return jsonify(error=error or "missing_token"), 401, {"WWW-Authenticate": challenge}
        return None

    @app.get("/things")
    def list_things():  # type: ignore[no-untyped-def]
        with state.lock:
            return jsonify([{"id": i, "name": n} for i, n in sorted(things.items())[:20]])

    @app.post("/things")
    def create_thing():  # type: ignore[no-untyped-def]
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return jsonify(error="a thing needs a name"), 400
        with state.lock:
            new_id = max(things) + 1
            things[new_id] = body["name"]
        return jsonify(id=new_id, name=body["name"]), 201

    @app.get("/things/<int(signed=True):thing_id>")
    def get_thing(thing_id: int):  # type: ignore[no-untyped-def]
        with state.lock:
            name = things.get(thing_id)
        if name is None:
            return jsonify(error="no such thing"), 404
        return jsonify(id=thing_id, name=name)

    return app, state


class ScanApi:
    """The API on a loopback port, in a thread of the test process."""

    def __init__(self) -> None:
        self.app, self.state = build_app()
        self.httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.token_url = f"{self.base}/oauth/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def log(self) -> list[Logged]:
        with self.state.lock:
            return list(self.state.log)

    def issued(self) -> list[str]:
        with self.state.lock:
            return list(self.state.tokens)

    def stop(self) -> None:
        self.httpd.shutdown()
