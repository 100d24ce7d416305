"""The hosts that the documentation's examples name, served for real.

Inside the examples' private network (netns.sh), every name in `HOSTS`
resolves to one address on loopback, where this serves HTTPS on port 443 with
a certificate from a throw-away CA (trustme):

- `idp.example.com`: an OAuth 2.0 provider (Authlib): Client Credentials,
  Resource Owner Password and refresh, at `/oauth/token`, with discovery
  (`/.well-known/openid-configuration`, RFC 8414's metadata).  Access tokens
  are JWTs that live an hour.
- `api.example.com`: the API under test, with its OpenAPI document at
  `/openapi.json` (the scanner tests' API, tests/servers/scanapi.py).  Every
  other path wants a credential: a token from the provider, the documented
  Basic password, bearer token or API key, or a JWT signed with the
  documented signing key.
- `legacy.example.com`: the same API, for the Basic example.
- `broken-api.example.com`: the same API with its authentication switched off,
  to show that a recipe notices an API that ignores credentials.

The signed auth types' APIs check each request with the verifiers the signing
tests use (tests/servers/), never with code of their own:

- `aws-api.example.com`: the same API behind AWS Signature V4, in eu-west-1
  for execute-api, checked by botocore's signer (`signed_api.verify_sigv4`);
  refused as API Gateway refuses (403 and its JSON `message`).
- `signed-api.example.com`: the same API behind HTTP Message Signatures (RFC
  9421), checked by the `http-message-signatures` package
  (`signed_api.verify_http_signature`) with the public half of the documented
  signing key as key id `scanner-key-1`.
- `digest-api.example.com`: Flask-HTTPAuth's Digest (MD5, qop=auth) on
  `/things` (`digest_api.build_app`), for the user `scanner`.
- `dpop-idp.example.com`: oidc-provider issuing DPoP-bound tokens
  (tests/oidc/dpop.mjs, started by harness.py), to which this forwards.
- `dpop-api.example.com`: the same API, taking only DPoP-bound tokens of that
  provider with a valid proof (`dpop_api.check`, Authlib's JOSE).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.fakes import CLIENT_SECRET, PASSWORD
from tests.servers import digest_api, dpop_api
from tests.servers.authserver import (
    Client,
    ClientCredentialsGrant,
    PasswordGrant,
    RefreshRecord,
    RefreshTokenGrant,
)
from tests.servers.scanapi import OPENAPI
from tests.servers.signed_api import (
    AwsUser,
    Registry,
    verify_http_signature,
    verify_sigv4,
)

HOSTS = ("idp.example.com", "api.example.com", "legacy.example.com", "broken-api.example.com",
         "aws-api.example.com", "signed-api.example.com", "digest-api.example.com",
         "dpop-idp.example.com", "dpop-api.example.com")
ISSUER = "https://idp.example.com"
# What the examples' variables hold (harness.py exports them).
CLIENT_ID = "7a45b9fd-12c3-4e56-a789-0123456789ab"
USERNAME = "john.doe"
BASIC_USER = "scanner"
BEARER_TOKEN = "static-token-4f1c9a7e2b"
API_KEY = "key-8d2e61b0c4a9"
SCOPES = ["read:things", "write:things", "openid", "offline_access"]
# Keys in the style of AWS's documentation examples: an IAM user's long-term
# key, and a role's temporary credentials (harness.py exports the latter as
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as
# `aws sts assume-role` gives them to a CI job).  The API is in this region,
# for this service.
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_ROLE_KEY_ID = "ASIAJEXAMPLEXEG2JICEA"
AWS_SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-3f9a"
AWS_REGION, AWS_SERVICE = "eu-west-1", "execute-api"
# The key id under which signed-api.example.com knows the documented signing key.
HTTP_KEY_ID = "scanner-key-1"
DPOP_IDP = "https://dpop-idp.example.com"
DPOP_API = "https://dpop-api.example.com"
# The DPoP provider's client (harness.py exports the secret as DPOP_CLIENT_SECRET):
# oidc-provider takes only the ASCII client secrets of RFC 6749 Appendix A.
DPOP_CLIENT_ID = "dpop-scanner"
DPOP_CLIENT_SECRET = "dpop-S3cret:%2B+/docs-42"
_SIGNING = secrets.token_bytes(32)

CLIENTS = {CLIENT_ID: Client(CLIENT_ID, CLIENT_SECRET,
                             {"client_credentials", "password", "refresh_token"})}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _hs256(claims: dict) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(_SIGNING, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


@dataclass
class State:
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    # Public key of the documented JWT signing key (harness.py makes the pair).
    jwt_public_key: object = None
    # aws-api's key and signed-api's (harness.py registers the latter's).
    signed: Registry = field(default_factory=lambda: Registry(
        aws={AWS_ACCESS_KEY_ID: AwsUser(AWS_SECRET_ACCESS_KEY),
             AWS_ROLE_KEY_ID: AwsUser(AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)},
        region=AWS_REGION, service=AWS_SERVICE))
    # Where the DPoP provider listens, and the API's view of its tokens (harness.py).
    dpop_idp: str | None = None
    dpop: dpop_api.DpopState | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def build_app() -> tuple[Flask, State]:
    app = Flask("astra-auth-docs-site")
    state = State()

    def save_token(token: dict, req) -> None:  # type: ignore[no-untyped-def]
        if "refresh_token" in token:
            with state.lock:
                state.refresh_tokens[token["refresh_token"]] = RefreshRecord(
                    req.user["id"] if req.user else None, req.client.client_id,
                    token.get("scope", ""))

    server = AuthorizationServer(app, query_client=CLIENTS.get, save_token=save_token)
    server.state = state  # type: ignore[attr-defined]  # RefreshTokenGrant reads it

    def access_token(client, grant_type, user, scope):  # type: ignore[no-untyped-def]
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user["id"] if user else client.client_id,
                  "client_id": client.client_id, "iat": now, "exp": now + 3600,
                  "jti": secrets.token_hex(8)}
        if scope:
            claims["scope"] = scope
        if request.form.get("audience"):
            claims["aud"] = request.form["audience"]
        return _hs256(claims)

    server.register_token_generator("default", BearerTokenGenerator(
        access_token_generator=access_token,
        refresh_token_generator=lambda *a, **k: secrets.token_urlsafe(32),
        expires_generator=lambda client, grant_type: 3600,
    ))
    server.scopes_supported = SCOPES
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(PasswordGrant)  # john.doe and tests.fakes.PASSWORD
    server.register_grant(RefreshTokenGrant)

    def host() -> str:
        return request.host.split(":")[0]

    @app.post("/oauth/token")
    def token():  # type: ignore[no-untyped-def]
        if host() != "idp.example.com":
            return jsonify(error="not here"), 404
        return server.create_token_response()

    @app.get("/.well-known/openid-configuration")
    @app.get("/.well-known/oauth-authorization-server")
    def metadata():  # type: ignore[no-untyped-def]
        if host() != "idp.example.com":
            return jsonify(error="not here"), 404
        return jsonify({
            "issuer": ISSUER,
            "token_endpoint": f"{ISSUER}/oauth/token",
            "grant_types_supported": ["client_credentials", "password", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": SCOPES,
            "response_types_supported": ["token"],
        })

    @app.after_request
    def dpop_nonce(response):  # type: ignore[no-untyped-def]
        # RFC 9449 §8.2: any answer of the API may give its current nonce.
        if host() == "dpop-api.example.com" and state.dpop is not None:
            with state.dpop.lock:
                response.headers["DPoP-Nonce"] = state.dpop.nonce
        return response

    @app.get("/openapi.json")
    def openapi():  # type: ignore[no-untyped-def]
        return jsonify(OPENAPI)

    @app.before_request
    def check_credential():  # type: ignore[no-untyped-def]
        if host() == "dpop-idp.example.com":
            return _forward_to_dpop_idp(state)
        if request.path.startswith(("/oauth/", "/.well-known/")) or request.path == "/openapi.json":
            return None
        if host() in SIGNED:
            return SIGNED[host()](state)
        if host() == "broken-api.example.com" or _accepted(state):
            return None
        auth = request.headers.get("Authorization")
        error = 'Bearer error="invalid_token"' if auth else "Bearer"
        return (jsonify(error="invalid_token" if auth else "missing_token"), 401,
                {"WWW-Authenticate": error})

    things: dict[int, str] = {1: "first", 2: "second"}

    @app.get("/")
    def root():  # type: ignore[no-untyped-def]
        return jsonify(name="astra-auth documentation API", things="/things")

    @app.get("/things")
    def list_things():  # type: ignore[no-untyped-def]
        return jsonify([{"id": i, "name": n} for i, n in sorted(things.items())[:20]])

    @app.post("/things")
    def create_thing():  # type: ignore[no-untyped-def]
        # As the OpenAPI document says: a name of 1 to 40 characters.
        body = request.get_json(silent=True)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 40:
            return jsonify(error="a thing needs a name of 1 to 40 characters"), 400
        new_id = max(things) + 1
        things[new_id] = body["name"]
        return jsonify(id=new_id, name=body["name"]), 201

    @app.get("/things/<int(signed=True):thing_id>")
    def get_thing(thing_id: int):  # type: ignore[no-untyped-def]
        name = things.get(thing_id)
        if name is None:
            return jsonify(error="no such thing"), 404
        return jsonify(id=thing_id, name=name)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_here(error):  # type: ignore[no-untyped-def]
        # JSON like every other answer (Schemathesis checks documented content
        # types), with werkzeug's own headers (405's Allow, RFC 9110 §15.5.6).
        response = error.get_response()
        response.set_data(json.dumps({"error": error.name}))
        response.content_type = "application/json"
        return response

    return app, state


def _target() -> str:
    """The request target as it arrived (path and query, still percent-encoded)."""
    return str(request.environ.get("RAW_URI") or request.full_path.rstrip("?"))


def _refused(reason: str, status: int = 401, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return jsonify(ok=False, reason=reason), status, headers or {}


def _sigv4(state: State):  # type: ignore[no-untyped-def]
    reason = verify_sigv4(state.signed, request.method, _target(),
                          list(request.headers.items()), request.get_data())
    if reason is None:
        return None
    if reason.startswith("aws:"):
        # As API Gateway answers a signature it does not accept.
        return (jsonify(message=reason[4:]), 403,
                {"x-amzn-ErrorType": "InvalidSignatureException"})
    return _refused(reason)


def _http_signature(state: State):  # type: ignore[no-untyped-def]
    reason = verify_http_signature(state.signed, request.method,
                                   f"https://{request.host}{_target()}",
                                   list(request.headers.items()), request.get_data())
    return None if reason is None else _refused(reason)


def _dpop(state: State):  # type: ignore[no-untyped-def]
    if state.dpop is None:
        return _refused("the DPoP provider is not running (harness.py)", 503)
    try:
        dpop_api.check(state.dpop, request.method, f"https://{request.host}{_target()}",
                       list(request.headers.items()))
    except dpop_api.Refused as refused:
        error = "use_dpop_nonce" if refused.nonce else "invalid_token"
        return _refused(refused.reason, 401, {
            "WWW-Authenticate": f'DPoP algs="{" ".join(dpop_api.ALGORITHMS)}", error="{error}"'})
    return None


# The hosts whose every request is signed: each one's check.
SIGNED = {"aws-api.example.com": _sigv4, "signed-api.example.com": _http_signature,
          "dpop-api.example.com": _dpop}


def _forward_to_dpop_idp(state: State):  # type: ignore[no-untyped-def]
    """The request, passed to the DPoP provider as the example host's."""
    import httpx

    if state.dpop_idp is None:
        return _refused("the DPoP provider is not running (harness.py)", 503)
    headers = {k: v for k, v in request.headers.items()
               if k.lower() not in ("host", "content-length", "connection")}
    headers.update({"X-Forwarded-Proto": "https", "X-Forwarded-Host": request.host})
    answer = httpx.request(request.method, state.dpop_idp + _target(), headers=headers,
                           content=request.get_data(), trust_env=False)
    dropped = ("content-length", "content-encoding", "transfer-encoding", "connection")
    return (answer.content, answer.status_code,
            [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in dropped])


def _accepted(state: State) -> bool:
    """Whether the request carries one of the documented credentials."""
    if hmac.compare_digest(request.headers.get("X-API-Key", ""), API_KEY):
        return True
    if hmac.compare_digest(request.args.get("api_key", ""), API_KEY):
        return True
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == BASIC_USER and hmac.compare_digest(password.encode(), PASSWORD.encode())
    if scheme.lower() != "bearer" or not value:
        return False
    if hmac.compare_digest(value, BEARER_TOKEN):
        return True
    return _valid_hs256(value) or _valid_es256(value, state.jwt_public_key)


def _valid_hs256(token: str) -> bool:
    try:
        head, body, mac = token.split(".")
        claims = json.loads(_b64d(body))
    except ValueError:
        return False
    expected = _b64(hmac.new(_SIGNING, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected, mac) and claims.get("exp", 0) > time.time()


def _valid_es256(token: str, public_key: object) -> bool:
    """A JWT that the documented ES256 key signed (the `jwt` auth type's example)."""
    if public_key is None:
        return False
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        head, body, signature = token.split(".")
        raw = _b64d(signature)
        claims = json.loads(_b64d(body))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                   int.from_bytes(raw[32:], "big"))
        public_key.verify(der, f"{head}.{body}".encode(),  # type: ignore[attr-defined]
                          ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        return False
    return claims.get("exp", 0) > time.time()


class Site:
    """The app on ADDRESS:443 over TLS, in a thread of the harness; the Digest
    host gets digest_api's app of its own."""

    def __init__(self, address: str, cert_ctx: ssl.SSLContext) -> None:
        self.app, self.state = build_app()
        self.digest = digest_api.DigestState({BASIC_USER: PASSWORD})
        digest_app = digest_api.build_app(self.digest, "MD5")

        def by_host(environ, start_response):  # type: ignore[no-untyped-def]
            if environ.get("HTTP_HOST", "").split(":")[0] == "digest-api.example.com":
                return digest_app(environ, start_response)
            return self.app(environ, start_response)

        self.httpd = make_server(address, 443, by_host, threaded=True, ssl_context=cert_ctx)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
