"""An `httpx.Auth` for scanners and scripts: credentials that renew themselves."""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from astra_auth.core.failure import CredentialError
from astra_auth.credentials.interface import Credential, CredentialSource, origin
from astra_auth.credentials.signing import (
    ChallengeRefused,
    Signed,
    again,
    answer,
    authenticate,
    write,
)
from astra_auth.diagnosis.hints import explain
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    from astra_auth.signing.message import HeaderUpdate


class AstraAuth(httpx.Auth):
    """Attaches a target's credential to each request for the target's own origin.

    Requests to any other origin (scheme, host and port) go out without it.  The
    credential is renewed before it expires; when the API answers 401, the
    source decides whether a renewal can help (see `CredentialSource.renew`), and
    the request is sent once more only then.  A target whose scheme signs each
    request (aws_sigv4, http_signature, digest, DPoP) has each request signed
    last, as httpx sends it, and the scheme's answer to the API's (a Digest
    challenge, a DPoP nonce) sends it once more.  Works with `httpx.Client` and
    `httpx.AsyncClient` (token requests then run in a worker thread, so the event
    loop is never blocked).

    httpx itself drops the `Authorization` header when it follows a redirect to
    another origin.
    """

    # The body is read before the flow: a request can be sent a second time,
    # and a scheme that covers the body (SigV4's payload hash, Content-Digest)
    # signs it.
    requires_request_body = True

    def __init__(self, source: CredentialSource, api_url: str) -> None:
        self._source = source
        self._origin = origin(api_url)
        self._name = source.target.name

    def _ours(self, request: httpx.Request) -> bool:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        return (url.scheme, url.host.lower(), port) == self._origin

    # A CredentialError reaches the script with its hints (docs/python.md).

    def _get(self) -> Credential:
        try:
            return self._source.get()
        except CredentialError as exc:
            explain(exc)
            raise

    def _renew(self, failed: Credential, response: httpx.Response) -> Credential | None:
        try:
            return self._source.renew(failed, response.headers.get("www-authenticate"))
        except CredentialError as exc:
            explain(exc)
            raise

    def _apply(self, credential: Credential, request: httpx.Request) -> Signed:
        """The credential put on last (signed, where its scheme signs)."""
        if credential.location == "query":
            from astra_auth.text.logmask import mask_in_http_logs

            mask_in_http_logs(credential.value)  # httpx logs each request's URL
        signed = authenticate(credential, request.method, str(request.url), request.headers,
                              request.content, name=self._name)
        if signed.url != str(request.url):
            request.url = httpx.URL(signed.url)
        return signed

    def _answer(self, credential: Credential, signed: Signed,
                response: httpx.Response) -> HeaderUpdate | None:
        try:
            return answer(credential, signed, response.status_code,
                          response.headers.multi_items())
        except ChallengeRefused as exc:
            raise CredentialError(exc.failure(), [
                "See what the API asks for: " + command("test-token", self._name)]) from None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._ours(request):
            yield request
            return
        credential = self._get()
        signed = self._apply(credential, request)
        response = yield request
        update = self._answer(credential, signed, response)
        if update is not None:
            response.read()
            write(request.headers, update)
            response = yield request
            self._answer(credential, again(signed, update), response)
        elif response.status_code == 401:
            retry = self._renew(credential, response)
            if retry is not None:
                response.read()
                signed = self._apply(retry, request)
                response = yield request
                self._answer(retry, signed, response)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._ours(request):
            yield request
            return
        import anyio.to_thread

        credential = await anyio.to_thread.run_sync(self._get)
        signed = self._apply(credential, request)
        response = yield request
        update = self._answer(credential, signed, response)
        if update is not None:
            await response.aread()
            write(request.headers, update)
            response = yield request
            self._answer(credential, again(signed, update), response)
        elif response.status_code == 401:
            retry = await anyio.to_thread.run_sync(lambda: self._renew(credential, response))
            if retry is not None:
                await response.aread()
                signed = self._apply(retry, request)
                response = yield request
                self._answer(retry, signed, response)


def auth_for(
    name: str,
    *,
    config: str | Path | None = None,
    min_ttl: float | None = None,
    timeout: float | None = None,
    ca_bundle: str | Path | None = None,
) -> AstraAuth:
    """The `httpx.Auth` for a target configured with `astra-auth configure`.

    The credential is attached only to requests for the target's `url` origin.
    Raises `astra_auth.CredentialError` (with `.category` and `.hints`) when no token
    can be had, and `astra_auth.AstraError` for an unknown target, a target
    without a `url`, or a bad config file.  `timeout` and `ca_bundle` default
    to the target's own (`timeout`, `ca_bundle` in the config), else 10 s.
    The credential is renewed at 80 % of its lifetime or 60 s before expiry,
    whichever comes first (never before half of it); `min_ttl` asks for more:
    a credential that will not live that many seconds is renewed first.

    `auth_for` adds the credential; TLS is the client's.  For a target whose
    tokens are bound to its client certificate (`certificate_bound`), build the
    client with `verify=astra_auth.ssl_context_for(name)`, which presents it.
    """
    from astra_auth.integrations.source import api_source

    url, source = api_source(name, config=config, min_ttl=min_ttl, timeout=timeout,
                             ca_bundle=ca_bundle)
    return AstraAuth(source, url)


def ssl_context_for(name: str, *, config: str | Path | None = None,
                    ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    """The TLS settings for a target's API: the OS trust store plus the target's
    `ca_bundle` (or `ca_bundle` given here), and its client certificate when its
    tokens are certificate-bound (`certificate_bound`, RFC 8705 §3).

        httpx.Client(verify=astra_auth.ssl_context_for(name), auth=astra_auth.auth_for(name))

    Raises `astra_auth.CredentialError` (category `invalid_key` or `missing_secret`)
    when the key cannot be used.
    """
    from astra_auth.credentials.oauth2_request import client_key, presents_certificate
    from astra_auth.credentials.secrets import SecretProblem
    from astra_auth.deps import Deps
    from astra_auth.net.settings import network
    from astra_auth.net.transport import ssl_context
    from astra_auth.storage.lookup import load_target
    from astra_auth.storage.secretstore import sources

    deps = Deps.system(Path(config) if config is not None else None)
    target = load_target(deps, name)
    _, bundle = network(target, None, Path(ca_bundle) if ca_bundle is not None else None)
    ctx = ssl_context(bundle, deps.environ)
    if presents_certificate(target, to_api=True):
        try:
            key = client_key(target, deps)
        except SecretProblem as exc:
            raise explain(CredentialError(exc.failure, target=target, secret_sources=sources(
                target, deps.environ))) from None
        if key is not None:
            key.load_identity(ctx)
    return ctx
