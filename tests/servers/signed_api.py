"""An API that checks signed requests with verifiers nobody here wrote.

A plain standard-library server (it sees the request target and headers
exactly as they arrive).  Each request is checked by its scheme:

- `Authorization: AWS4-HMAC-SHA256 …`: botocore's own signer
  (`botocore.auth.SigV4Auth.add_auth`, `S3SigV4Auth` for the service `s3`)
  signs the request again from the same credentials, with the clock stopped
  at the request's `X-Amz-Date`, over the headers the request names in
  `SignedHeaders`, as they arrived; the two `Authorization` values must be
  equal.  The date must be within 5 minutes of now (as AWS requires), and
  `x-amz-content-sha256` must be the body's SHA-256 (or UNSIGNED-PAYLOAD).
- `Signature-Input`: the `http-message-signatures` package's
  `HTTPMessageVerifier`, with the public key (or shared secret) registered for
  the `keyid`, the body's Content-Digest checked against the body.

2xx with a JSON echo when it verifies; 401 with the reason otherwise.  Every
request is logged with its outcome.

Where the registry names the region and service the API is in, a signature
scoped to another is refused as API Gateway refuses it: 403 with its JSON
`message` ("Credential should be scoped to a valid region, not …") and an
`x-amzn-ErrorType`; so is a request time more than 5 minutes off ("Signature
expired: …").  Where it names an `accept_signature`, a refused RFC 9421
signature gets that `Accept-Signature` (RFC 9421 §5.1).  `/openapi.json` (an
OpenAPI description of the echo, for scanners) needs no signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socketserver
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class AwsUser:
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Checked:
    method: str
    target: str
    scheme: str
    ok: bool
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class Registry:
    # access key id -> its secret (and session token)
    aws: dict[str, AwsUser] = field(default_factory=dict)
    # keyid -> (http-message-signatures algorithm class, public key or shared secret)
    http_keys: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # The components every RFC 9421 signature must cover.
    required: tuple[str, ...] = ("@method", "@target-uri")
    # Where the API is: a signature scoped elsewhere is refused as AWS does.
    region: str | None = None
    service: str | None = None
    # Sent with a refused RFC 9421 signature (RFC 9421 §5.1).
    accept_signature: str | None = None
    log: list[Checked] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


_AWS = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                  r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})")
# botocore.auth.add_auth reads the time here; stopped at X-Amz-Date one request at a time.
_FROZEN = threading.Lock()


def verify_sigv4(registry: Registry, method: str, target: str,
                 headers: list[tuple[str, str]], body: bytes) -> str | None:
    """None when botocore's signer gives the request's own Authorization, else why not."""
    from botocore.auth import S3SigV4Auth, SigV4Auth  # type: ignore[import-untyped]
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
    from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]

    def get(name: str) -> str | None:
        values = [v for k, v in headers if k.lower() == name]
        return ",".join(values) if values else None

    match = _AWS.fullmatch(get("authorization") or "")
    if match is None:
        return "malformed Authorization"
    key_id, day, region, service, signed_names, _ = match.groups()
    user = registry.aws.get(key_id)
    if user is None:
        return "unknown access key"
    if registry.region is not None and region != registry.region:
        return f"aws:Credential should be scoped to a valid region, not '{region}'. "
    if registry.service is not None and service != registry.service:
        return f"aws:Credential should be scoped to correct service: '{registry.service}'. "
    stamp = get("x-amz-date") or ""
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "no X-Amz-Date"
    now = time.time()
    if abs(when.timestamp() - now) > 300 or stamp[:8] != day:
        late = datetime.fromtimestamp(now - 300, UTC).strftime("%Y%m%dT%H%M%SZ")
        current = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        return (f"aws:Signature expired: {stamp} is now earlier than {late} ({current} - "
                "5 min.)")
    declared = get("x-amz-content-sha256")
    if declared != "UNSIGNED-PAYLOAD" and declared != hashlib.sha256(body).hexdigest():
        return "x-amz-content-sha256 is not the body's hash"
    if (get("x-amz-security-token") or None) != user.session_token:
        return "wrong session token"
    signed = {name: get(name) or "" for name in signed_names.split(";")}
    if "host" not in signed or "x-amz-date" not in signed:
        return "host and x-amz-date must be signed"
    path, _, query = target.partition("?")
    params = [(unquote(k), unquote(v)) for k, _, v in
              (p.partition("=") for p in query.split("&") if p)]
    request = AWSRequest(method=method, url=f"http://{signed['host']}{path}",
                         headers=signed, data=body, params=params)
    if declared == "UNSIGNED-PAYLOAD" and service == "s3":
        # S3 signs the payload as declared: botocore's switch for an unsigned one.
        from botocore.config import Config  # type: ignore[import-untyped]

        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    kind = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = kind(ReadOnlyCredentials(key_id, user.secret_access_key, user.session_token),
                  service, region)
    with _FROZEN, mock.patch("botocore.auth.get_current_datetime", return_value=when):
        signer.add_auth(request)
    if not hmac.compare_digest(request.headers["Authorization"], get("authorization") or ""):
        return "signature does not match"
    return None


def verify_http_signature(registry: Registry, method: str, url: str,
                          headers: list[tuple[str, str]], body: bytes) -> str | None:
    from http_message_signatures import (
        HTTPMessageVerifier,
        InvalidSignature,
        MappingKeyResolver,
    )

    match = re.search(r'keyid="([^"]*)"', dict((k.lower(), v) for k, v in headers).get(
        "signature-input", ""))
    if match is None or match.group(1) not in registry.http_keys:
        return "unknown keyid"
    algorithm, key = registry.http_keys[match.group(1)]

    class Message:
        pass

    message = Message()
    message.method = method  # type: ignore[attr-defined]
    message.url = url  # type: ignore[attr-defined]
    message.headers = _Lines(headers)  # type: ignore[attr-defined]
    verifier = HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=MappingKeyResolver(
        public_keys={match.group(1): key}, private_keys={}))
    try:
        verifier.verify(message, require_components=registry.required, body=body)
    except InvalidSignature as exc:
        return f"invalid signature: {exc}"
    return None


class _Lines:
    """Header field lines in order, read-only, as the verifier reads them."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self._lines = lines

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(dict.fromkeys(k for k, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self._lines)


# What a scanner reads to test the echo: every operation answers a JSON object.
OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "astra-auth signed test API", "version": "1.0.0"},
    "paths": {
        "/things": {
            "get": {
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 20}},
                    {"name": "page", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {"200": {"description": "Echo", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
            },
            "post": {
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string", "maxLength": 40}}}}}},
                "responses": {"200": {"description": "Echo", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
            },
        },
        "/things/{name}": {
            "get": {
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1,
                                           "maxLength": 20}}],
                "responses": {"200": {"description": "Echo", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
            },
        },
    },
}


class Handler(BaseHTTPRequestHandler):
    server: SignedApi  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = list(self.headers.items())
        registry = self.server.registry
        if self.command == "GET" and self.path == "/openapi.json":
            self._send(200, json.dumps(OPENAPI).encode(), [])
            return
        names = {k.lower() for k, _ in headers}
        if "signature-input" in names:
            scheme = "http_signature"
            url = f"http://{self.headers.get('Host')}{self.path}"
            reason = verify_http_signature(registry, self.command, url, headers, body)
        elif (self.headers.get("Authorization") or "").startswith("AWS4-HMAC-SHA256"):
            scheme = "aws_sigv4"
            reason = verify_sigv4(registry, self.command, self.path, headers, body)
        else:
            scheme, reason = "none", "not signed"
        with registry.lock:
            registry.log.append(Checked(self.command, self.path, scheme, reason is None,
                                        reason or "", tuple(headers), body))
        status = 200 if reason is None else 401
        extra: list[tuple[str, str]] = []
        if reason is not None and reason.startswith("aws:"):
            # As API Gateway answers: 403, its JSON message, its error type.
            answer = json.dumps({"message": reason[4:]}).encode()
            extra.append(("x-amzn-ErrorType", "InvalidSignatureException"))
            self._send(403, answer, extra)
            return
        if reason is not None and scheme == "http_signature" and registry.accept_signature:
            extra.append(("Accept-Signature", registry.accept_signature))
        answer = json.dumps({"ok": reason is None, "reason": reason, "path": self.path,
                             "body_sha256": hashlib.sha256(body).hexdigest()}).encode()
        self._send(status, answer, extra)

    def _send(self, status: int, answer: bytes, extra: list[tuple[str, str]]) -> None:
        self.send_response(status)  # with the server's own Date
        for name, value in [*extra, ("Content-Type", "application/json"),
                            ("Content-Length", str(len(answer)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any


class SignedApi(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer's own looks the loopback address up (getfqdn): ~0.5 s here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def __init__(self, registry: Registry) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.registry = registry
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.host = urlsplit(self.base).netloc
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def checked(self) -> list[Checked]:
        with self.registry.lock:
            return list(self.registry.log)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
