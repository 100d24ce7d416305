"""The proxy's forwarding rules over aiohttp's HTTP server and client.

aiohttp parses and writes HTTP on both sides (llhttp, strict on the scanner's
side); this module decides what is forwarded.  Per request:

1. refuse what must not reach the API (`admission`): a forward-proxy request,
   an ambiguous or unsupported framing, a `Host` that is not the proxy's own
   (DNS rebinding), a request from a web page (`Origin`, `Sec-Fetch-Site`);
2. drop hop-by-hop headers (RFC 9110 §7.6.1) and the client's own credential,
   set the upstream's own Host, then put the target's credential on last
   (or none, for `X-Astra-Auth: none`) through the credentials layer's one
   signing step (`astra_auth.credentials.signing`): a scheme that signs each
   request signs it as it is sent.  Forward, and stream the answer back;
3. every answer goes back to that step: when the scheme responds to it (a
   Digest challenge, a DPoP nonce), the request is sent once more with that;
   otherwise a 401 asks the credential source whether a renewal can help.
   Either retry needs the body kept (at most 1 MiB); larger bodies stream and
   are not retried (a scheme that covers the body signs one that streams with
   its unsigned form, or the request is refused: `body_not_signable`, 502).

Credentials come from `astra_auth.credentials.interface.CredentialSource`
only: `peek()` in the event loop for a fresh one in memory, else `get()` in a
thread (it blocks on the keyring and the token endpoint), one at a time per
target, its outcome shared by every request waiting for it.  The source
itself shares renewals between threads and backs off after a failure
(`astra_auth.credentials.shared`).  The proxy keeps no token of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from astra_auth.core.errors import AstraError, bug_location
from astra_auth.credentials.interface import (
    Credential,
    CredentialSource,
    SourceSettings,
    network,
    open_source,
)
from astra_auth.credentials.signing import (
    BODY_NOT_SIGNABLE,
    BodyNotSignable,
    ChallengeRefused,
    Signed,
    again,
    answer,
    authenticate,
    write,
)
from astra_auth.diagnosis.hints import explain
from astra_auth.proxy.admission import MAX_HEAD, Admission, Refusal, answer_problem, parse_error
from astra_auth.text import safetext
from astra_auth.text.redact import Redactor

if TYPE_CHECKING:
    from astra_auth.deps import Deps
    from astra_auth.proxy import Listener, ProxyOptions
    from astra_auth.signing.message import HeaderUpdate
    from astra_auth.storage.config import Target

T = TypeVar("T")
# A request body up to this size is kept, so that it can be sent again after
# a 401; a larger one streams through and a 401 is passed on as it is.
KEEP_LIMIT = 1024 * 1024
# RFC 9110 §7.6.1 (and the older Keep-Alive, Proxy-Connection, Trailers).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})
# Host is the upstream's own; Expect is answered here; X-Astra-Auth is ours;
# the body's framing is set again for what is sent.
REQUEST_DROP = HOP_BY_HOP | {"host", "expect", "x-astra-auth", "content-length"}
RESPONSE_DROP = HOP_BY_HOP | {"content-length"}  # set again for what is sent
# An answer of known length up to this size is read whole before it is sent:
# one the API breaks off is then a clean 502 rather than a cut-off answer.
SMALL_BODY = 64 * 1024
# Header fields a request or answer may have (aiohttp's default is 128).
MAX_FIELDS = 256
# Seconds a scanner's connection may sit idle, between requests or in the
# middle of a head that never ends.
KEEP_ALIVE_IDLE = 75.0
# Seconds that in-flight requests get to finish on Ctrl-C or SIGTERM.
SHUTDOWN_GRACE = 3.0

STALLED = Refusal(400, "bad_request", "the request's body stopped arriving, or its "
                  "chunked framing is not valid HTTP/1.1", close=True)

HINTS = {
    "connection_refused": "Nothing listens at {origin}: start the API, or check the "
                          "target's url (astra-auth targets show {name}) or --upstream.",
    "dns_error": "{host} does not resolve from this machine: check the target's url "
                 "(astra-auth targets show {name}), the DNS or /etc/hosts.",
    "tls_error": "{origin}'s certificate is not trusted here: give its CA with "
                 "--ca-bundle PATH, or install the CA in the OS trust store.",
    "timeout": "The API did not answer within {timeout:g} s: give it longer with "
               "--timeout SECONDS.",
    "connection_error": "The connection to {origin} broke before a complete answer: see "
                        "the API's logs, or those of any proxy in between.",
}


class Log:
    """One line per renewal and per failure, on stderr, masked and without
    control characters (`--quiet`: failures only)."""

    # Credentials masked in its lines: the most recent ones.  A scan renews
    # for hours, and the redactor's cost grows with every secret it holds; an
    # older, expired token no longer opens anything.
    REMEMBERED = 16

    def __init__(self, deps: Deps, quiet: bool) -> None:
        self._deps = deps
        self._quiet = quiet
        self._lock = threading.Lock()
        self._remembered: deque[str] = deque(maxlen=self.REMEMBERED)
        self.redactor = Redactor()

    def event(self, kind: str, text: str) -> None:
        """A line from a credential source (called in its threads)."""
        if kind == "failed":
            self.failure(text)
        elif not self._quiet:
            self._line(text)

    def failure(self, text: str) -> None:
        self._line(text)

    def _line(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(self._deps.clock()))
        clean = safetext.clean(text, one_line=True)
        with self._lock:
            self._deps.io.err.print(f"{stamp} {self.redactor.redact(clean)}", markup=False,
                                    highlight=False, soft_wrap=True)

    def remember(self, credential: Credential) -> None:
        """Mask this credential in every later line, whatever prints it."""
        with self._lock:
            new = [v for v in (credential.value, credential.token)
                   if v and v not in self._remembered]
            if new:
                self._remembered.extend(new)
                self.redactor = Redactor(*self._remembered)


class ScannerGone(ConnectionResetError):
    """The scanner stopped reading its answer for longer than the timeout."""


@dataclass
class Upstream:
    base: str  # where requests go: scheme://host[:port][/path], no trailing slash
    origin: str  # the API's origin as configured, for messages
    host: str
    proxy: str | None  # HTTP(S)_PROXY for this API, with its credentials
    host_header: str | None  # set when `base` is a pinned loopback address
    # The API's base URL as the API sees it (its own host name): what is signed.
    url: str = ""


@dataclass
class _Sent:
    """A request as it went out: its credential put on (and signed), its headers."""

    signed: Signed
    headers: CIMultiDict[str]


class Forwarder:
    """Everything one listening port needs: its target's source and upstream."""

    def __init__(self, name: str, source: CredentialSource, upstream: Upstream,
                 session: aiohttp.ClientSession, log: Log, timeout: float,
                 admission: Admission) -> None:
        self.name = name
        self.source = source
        self.upstream = upstream
        self.session = session
        self.log = log
        self.timeout = timeout
        self.admission = admission
        self._last: str | None = None  # the value of the last credential used
        self._pending: asyncio.Future[Credential] | None = None
        self._told: set[str] = set()  # challenges the log said it cannot answer

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if tuple(request.version) not in ((1, 1), (1, 0)):
            # HTTP/0.9 or 2.0 sent as text: no HTTP/1.1 answer would be understood
            # (and aiohttp would answer in the request's own version).
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("not HTTP/1")
        try:
            refusal = self.admission.check(request.method, request.raw_path, request.version,
                                           request.raw_headers)
            if refusal is not None:
                response: web.StreamResponse = _error_response(refusal)
            else:
                response = await self._forward(request)
            if "Upgrade" in request.headers and not response.prepared:
                response.force_close()  # not performed: what follows is not HTTP/1.1
            return response
        except (ConnectionError, asyncio.CancelledError):
            raise  # the scanner went away; aiohttp closes its connection quietly
        except Exception as exc:  # noqa: BLE001 - one broken request must not stop the proxy
            # Never the exception's text: it may hold a header value.
            self.log.failure(f"{self.name}: internal error ({type(exc).__name__}"
                             f"{bug_location(exc)}); this is a bug, please report it")
            if request.writer.output_size > 0 and request.transport is not None:
                # The answer had started: it must look cut off, not complete.
                request.transport.abort()
                raise ConnectionResetError("internal error mid-answer") from None
            return _error_response(Refusal(500, "internal_error",
                                           "astra-auth proxy failed on this request (a bug)"))

    async def _forward(self, request: web.BaseRequest) -> web.StreamResponse:
        headers, anonymous = _forwarded_headers(request)
        if self.upstream.host_header is not None:
            headers["Host"] = self.upstream.host_header
        credential = None
        if not anonymous:
            try:
                credential = await self._credential()
            except AstraError as exc:
                return self._no_credential(exc)
        if request.version == aiohttp.HttpVersion11 and request.body_exists and \
                request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            body, kept = await _body(request, headers, self.timeout)
        except BodyStalled:
            return _error_response(STALLED)
        method, path = request.method, request.raw_path
        try:
            response, sent = await self._send(method, path, headers, credential, body)
            update = self._answer(credential, sent, response)
            if update is not None and kept:
                # The scheme answers what the API said (a Digest challenge, a
                # DPoP nonce): the signed request once more, with that on top.
                response.close()
                response, sent = await self._resend(method, sent, update, body)
                self._answer(credential, sent, response)  # keeps what this answer gives
            elif response.status == 401 and credential is not None and kept:
                challenge = response.headers.get("WWW-Authenticate")
                try:
                    retry = await _in_thread(self.source.renew, credential, challenge)
                except AstraError as exc:
                    response.close()
                    return self._no_credential(exc)
                if retry is not None:
                    self.log.remember(retry)
                    response.close()
                    response, sent = await self._send(method, path, headers, retry, body)
                    self._answer(retry, sent, response)
        except BodyNotSignable as exc:
            return _error_response(Refusal(502, BODY_NOT_SIGNABLE, f"{exc}", exc.hint))
        except AstraError as exc:  # a request its scheme refuses to sign
            return self._no_credential(exc)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            if request.content.exception() is not None:
                raise ConnectionResetError("the scanner went away mid-body") from None
            if isinstance(exc.__cause__ or exc.__context__, BodyStalled):
                return _error_response(STALLED)  # the scanner's, not the API's
            return self._unreachable(exc)
        return await self._stream_back(request, response)

    async def _credential(self) -> Credential:
        # The usual case, a fresh credential in memory, without a thread hop;
        # the source alone decides what is fresh.
        credential = self.source.peek()
        if credential is None:
            credential = await self.fetch()
        if credential.value != self._last:
            self._last = credential.value
            self.log.remember(credential)
        return credential

    def fetch(self) -> asyncio.Future[Credential]:
        """`source.get()` in a thread; requests that need one meanwhile share it."""
        pending = self._pending
        if pending is None:
            pending = self._pending = asyncio.ensure_future(_in_thread(self.source.get))
            pending.add_done_callback(self._fetched)
        # A scanner that goes away does not cancel it for the others.
        return asyncio.shield(pending)

    def _fetched(self, done: asyncio.Future[Credential]) -> None:
        self._pending = None
        if not done.cancelled():
            done.exception()  # retrieved here too, for a fetch nobody awaits any more

    async def _send(self, method: str, path: str, headers: CIMultiDict[str],
                    credential: Credential | None, body: Body
                    ) -> tuple[aiohttp.ClientResponse, _Sent]:
        """Send the request with `credential` put on last (signed, where its
        scheme signs): what the API receives is what was signed."""
        headers = headers.copy()
        url = self.upstream.url + path
        signed = Signed(url)
        if credential is not None:
            signed = authenticate(credential, method, url, headers, _signable(body),
                                  name=self.name)
        sent = _Sent(signed, headers)
        return await self._post(method, sent, body), sent

    async def _resend(self, method: str, sent: _Sent, update: HeaderUpdate, body: Body
                      ) -> tuple[aiohttp.ClientResponse, _Sent]:
        headers = sent.headers.copy()
        write(headers, update)
        again_sent = _Sent(again(sent.signed, update), headers)
        return await self._post(method, again_sent, body), again_sent

    async def _post(self, method: str, sent: _Sent, body: Body) -> aiohttp.ClientResponse:
        # The same path and query on the address the proxy connects to (a
        # pinned loopback address keeps the API's own name in Host).
        url = self.upstream.base + sent.signed.url[len(self.upstream.url):]
        return await self.session.request(method, URL(url, encoded=True), headers=sent.headers,
                                          data=body, allow_redirects=False,
                                          proxy=self.upstream.proxy)

    def _answer(self, credential: Credential | None, sent: _Sent,
                response: aiohttp.ClientResponse) -> HeaderUpdate | None:
        """The scheme's answer to the API's (None: nothing to send again)."""
        if credential is None or sent.signed.request is None:
            return None
        try:
            return answer(credential, sent.signed, response.status,
                          response.headers.items())
        except ChallengeRefused as exc:
            # The API's answer goes to the scanner as it is; the log says why once.
            text = f"{self.name}: the API's challenge cannot be answered: {exc}"
            if text not in self._told:
                self._told.add(text)
                self.log.failure(text)
            return None

    async def _stream_back(self, request: web.BaseRequest,
                           response: aiohttp.ClientResponse) -> web.StreamResponse:
        try:
            problem = answer_problem(response.status, response.raw_headers)
            if problem is not None:
                # Ambiguous, in a coding nobody asked for, or another protocol:
                # nothing of it goes to the scanner.
                response.close()
                return self._unreachable(ConnectionError(problem))
            drop = RESPONSE_DROP | _connection_tokens(response.headers)
            headers = CIMultiDict((k, v) for k, v in response.headers.items()
                                  if k.lower() not in drop)
            length = response.content_length
            out = web.StreamResponse(status=response.status, reason=response.reason,
                                     headers=headers)
            if "Upgrade" in request.headers:
                # Not performed: what follows on the connection is not HTTP/1.1.
                out.force_close()
            if request.method == "HEAD" or response.status in (204, 304):
                if length is not None and response.status != 204:
                    out.content_length = length
                await self._write(self._whole(out, request, b""))
                return out
            if length is not None and length <= SMALL_BODY:
                try:
                    whole = await response.read()
                except (TimeoutError, aiohttp.ClientError) as exc:
                    return self._unreachable(exc)
                out.content_length = len(whole)
                await self._write(self._whole(out, request, whole))
                return out
            if length is not None:
                out.content_length = length
            await self._write(out.prepare(request))
            try:
                async for chunk in response.content.iter_any():
                    await self._write(out.write(chunk))
            except (TimeoutError, aiohttp.ClientError) as exc:
                # The answer broke off after its start was sent: the scanner must
                # see a cut-off answer, not a complete-looking short one.
                self.log.failure(f"{self.name}: {request.method} answer cut off by the API "
                                 f"({_category(exc)})")
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("answer cut off") from None
            await self._write(out.write_eof())
            return out
        except ScannerGone:
            if request.transport is not None:
                request.transport.abort()
            raise
        finally:
            response.release()

    @staticmethod
    async def _whole(out: web.StreamResponse, request: web.BaseRequest, body: bytes) -> None:
        await out.prepare(request)
        await out.write_eof(body)

    async def _write(self, step: Any) -> None:
        """One write to the scanner: a scanner that stops reading gets the
        read timeout (`--timeout`) as the API does, then its connection closes."""
        try:
            async with asyncio.timeout(self.timeout):
                await step
        except TimeoutError:
            raise ScannerGone("the scanner stopped reading") from None

    def _no_credential(self, exc: AstraError) -> web.Response:
        category = str(getattr(exc, "category", None) or "missing_secret")
        hints = explain(exc).hints
        hint = hints[0] if hints else None
        return _error_response(Refusal(502, category, self.log.redactor.redact(exc.message),
                                       self.log.redactor.redact(hint) if hint else None))

    def _unreachable(self, exc: BaseException) -> web.Response:
        category = _category(exc)
        up = self.upstream
        hint = HINTS[category].format(origin=up.origin, host=up.host, name=self.name,
                                      timeout=self.timeout)
        message = (f"the API at {up.origin} did not answer within {self.timeout:g} s"
                   if category == "timeout"
                   else f"the API at {up.origin} could not be reached: {category}")
        self.log.failure(f"{self.name}: {message}")
        return _error_response(Refusal(504 if category == "timeout" else 502, category,
                                       message, hint))


def _category(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns_error"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "tls_error"
    if isinstance(exc, TimeoutError):  # aiohttp's ServerTimeoutError among them
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError) and \
            exc.os_error.errno == errno.ECONNREFUSED:
        return "connection_refused"
    return "connection_error"


def _error_response(refusal: Refusal) -> web.Response:
    """The proxy's own answer: the same JSON body for every refusal and failure."""
    body = {"error": {"category": refusal.category, "message": refusal.message,
                      "hint": refusal.hint}}
    headers = {"Cache-Control": "no-store"}
    if refusal.close:
        headers["Connection"] = "close"  # said in HTTP/1.0 answers too
    response = web.Response(status=refusal.status, text=safetext.dumps(body),
                            content_type="application/json", headers=headers)
    if refusal.close:
        response.force_close()
    return response


def _connection_tokens(headers: Mapping[str, str]) -> frozenset[str]:
    """Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1)."""
    values = headers.getall("Connection", []) if hasattr(headers, "getall") else []
    return frozenset(t.strip().lower() for v in values for t in v.split(",") if t.strip())


def _forwarded_headers(request: web.BaseRequest) -> tuple[CIMultiDict[str], bool]:
    """The scanner's headers as they go to the API, and whether the request
    goes without a credential: the scanner asked (X-Astra-Auth: none), or it
    is a TRACE, whose answer echoes the request back (RFC 9110 §9.3.8: a
    client must not put credentials in it)."""
    incoming = request.headers
    drop = REQUEST_DROP | _connection_tokens(incoming)
    anonymous = (incoming.get("X-Astra-Auth", "").strip().lower() == "none"
                 or request.method == "TRACE")
    return CIMultiDict((k, v) for k, v in incoming.items() if k.lower() not in drop), anonymous


# A request body as forwarded: kept whole, or streaming on.
Body = bytes | AsyncIterator[bytes] | None


def _signable(body: Body) -> bytes | None:
    """The body as a scheme signs it: b"" for none, None for one that streams."""
    if body is None:
        return b""
    return body if isinstance(body, bytes) else None


class BodyStalled(Exception):
    """The scanner's body stopped arriving for the read timeout.  Also how a
    body whose chunked framing breaks shows: aiohttp's parser stops feeding
    it, and its 400 would come only after this request."""


async def _body(request: web.BaseRequest, headers: CIMultiDict[str], timeout: float
                ) -> tuple[Body, bool]:
    """The request body to forward, and whether it was kept for a retry.

    Up to KEEP_LIMIT it is read whole (and can be sent twice); beyond that
    what was read goes first and the rest streams on as it arrives.  A
    streamed body of known length keeps its Content-Length.
    """
    if not request.body_exists:
        return None, True
    length = request.content_length
    if length is not None and length > KEEP_LIMIT:
        headers["Content-Length"] = str(length)
        return _stream(b"", request.content, timeout), False
    buffer = bytearray()
    while len(buffer) <= KEEP_LIMIT:
        chunk = await _read(request.content, timeout)
        if not chunk:
            return bytes(buffer), True
        buffer += chunk
    return _stream(bytes(buffer), request.content, timeout), False


async def _read(content: aiohttp.StreamReader, timeout: float) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            return await content.readany()
    except TimeoutError:
        raise BodyStalled from None


async def _stream(first: bytes, rest: aiohttp.StreamReader, timeout: float
                  ) -> AsyncIterator[bytes]:
    if first:
        yield first
    while chunk := await _read(rest, timeout):
        yield chunk


async def _in_thread(call: Callable[..., T], *args: object) -> T:
    """`call(*args)` in a thread of its own.  A daemon thread, not an
    executor's: a token request that hangs must not hold up the exit that
    Ctrl-C or SIGTERM asked for (executors join their threads at exit).
    Credential calls that block are rare: renewals and failures."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def work() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = call(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="astra-auth-credential", daemon=True).start()
    return await future


def _upstream(listener: Listener, environ: Mapping[str, str]) -> Upstream:
    from astra_auth.net.transport import environment_proxy

    parts = urlsplit(listener.upstream)
    # HTTP(S)_PROXY / NO_PROXY as for token requests, never for loopback.  Not
    # aiohttp's trust_env: it would also read ~/.netrc and add its passwords to
    # requests sent with X-Astra-Auth: none.
    return Upstream(base=listener.connect or listener.upstream,
                    origin=f"{parts.scheme}://{parts.netloc}", host=parts.hostname or "",
                    proxy=environment_proxy(listener.upstream, environ),
                    host_header=listener.host_header, url=listener.upstream)


class _Protocol(web.RequestHandler):
    """aiohttp's connection handler, whose answer to a request it cannot parse
    is the proxy's JSON refusal (431 for a head too large, 501 for an unknown
    transfer coding, else 400) and never quotes the request's bytes."""

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("the answer has started: the connection is closed")
        refusal = parse_error(exc) if status == 400 else Refusal(
            500, "internal_error", "astra-auth proxy failed on this request (a bug)")
        response = _error_response(refusal)
        response.force_close()
        return response


class _Server(web.Server):
    """`web.Server` whose connections are `_Protocol`s."""

    def __init__(self, handler: Callable[[web.BaseRequest], Any], *,
                 handler_cancellation: bool, **kwargs: Any) -> None:
        super().__init__(handler, handler_cancellation=handler_cancellation, **kwargs)
        self._protocol_args = kwargs  # the connections' own settings

    def __call__(self) -> web.RequestHandler:
        return _Protocol(self, loop=asyncio.get_running_loop(), **self._protocol_args)


def make_server(handler: Callable[[web.BaseRequest], Any], idle: float = KEEP_ALIVE_IDLE
                ) -> web.Server:
    """The scanner's side: aiohttp's server, silent, with the proxy's limits.
    `idle`: seconds before a connection that sends nothing (or half a head)
    is closed."""
    # handler_cancellation: a scanner that goes away cancels its request, and
    # with it the API's connection, rather than leaving it until the API
    # sends more or the read timeout fires.
    return _Server(handler, handler_cancellation=True, access_log=None, logger=_SILENT,
                   auto_decompress=False, max_line_size=MAX_HEAD, max_field_size=MAX_HEAD,
                   max_headers=MAX_FIELDS, keepalive_timeout=idle, lingering_time=2.0)


# ---------------------------------------------------------------------------
# Running it


def serve(listeners: list[Listener], opts: ProxyOptions, deps: Deps) -> None:
    """Check every credential that needs no network, listen, and serve until
    Ctrl-C or SIGTERM; returns normally then (exit 0)."""
    log = Log(deps, opts.quiet)
    settings = SourceSettings(timeout=opts.timeout, ca_bundle=opts.ca_bundle,
                              on_event=log.event)
    sources: dict[str, CredentialSource] = {}
    for listener in listeners:
        name = listener.target.name
        if name not in sources:
            sources[name] = open_source(listener.target, deps, settings)
            _check_offline(listener.target, sources[name], log)
    identities = {name: _identity(listener.target, deps) for listener in listeners
                  for name in [listener.target.name]}
    from astra_auth.proxy import listen

    for listener in listeners:
        listen(listener)
    _quiet_library_logs()
    with contextlib.suppress(KeyboardInterrupt):  # where signals cannot be handled
        _run_loop(_main(listeners, sources, opts, deps, log, identities))


# The types whose credential is read or signed here, without a network: a
# value that cannot go into a header stops the proxy before it listens.
OFFLINE_TYPES = frozenset({"basic", "bearer", "api_key", "jwt", "aws_sigv4", "http_signature",
                           "digest"})


def _check_offline(target: Target, source: CredentialSource, log: Log) -> None:
    if target.auth_type not in OFFLINE_TYPES:
        return
    from astra_auth.core.failure import Category, CredentialError

    try:
        log.remember(source.get())
    except CredentialError as exc:
        if exc.category == Category.INVALID_KEY:
            raise  # exit 3, before anything listens
        # Anything else (a missing secret) is logged; requests get its 502.


def _identity(target: Target, deps: Deps) -> Any:
    """The client certificate the proxy presents to this target's API, for
    certificate-bound tokens (RFC 8705 §3); None for the others.  A key that
    cannot be used stops the proxy before it listens (exit 3)."""
    from astra_auth.credentials.oauth2_request import client_key, presents_certificate
    from astra_auth.credentials.secrets import SecretProblem

    if not presents_certificate(target, to_api=True):
        return None
    try:
        return client_key(target, deps)
    except SecretProblem as exc:
        from astra_auth.core.failure import CredentialError
        from astra_auth.storage.secretstore import sources

        raise CredentialError(exc.failure, target=target,
                              secret_sources=sources(target, deps.environ)) from None


def _run_loop(main: Any) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


async def _main(listeners: list[Listener], sources: dict[str, CredentialSource],
                opts: ProxyOptions, deps: Deps, log: Log,
                identities: dict[str, Any] | None = None) -> None:
    from astra_auth.net.transport import ssl_context

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.add_signal_handler(sig, stop.set)
    runners: list[web.BaseRunner] = []
    sessions: list[aiohttp.ClientSession] = []
    forwarders: dict[str, Forwarder] = {}
    try:
        for listener in listeners:
            upstream = _upstream(listener, deps.environ)
            timeout, ca_bundle = network(listener.target, opts.timeout, opts.ca_bundle)
            tls = ssl_context(ca_bundle, deps.environ) if upstream.base.startswith(
                "https:") else None
            identity = (identities or {}).get(listener.target.name)
            if tls is not None and identity is not None:
                identity.load_identity(tls)
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ssl=tls if tls is not None else True),
                timeout=aiohttp.ClientTimeout(total=None, connect=timeout,
                                              sock_connect=timeout, sock_read=timeout),
                auto_decompress=False,
                # Send only what the client sent: no default Accept, User-Agent...
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
                max_line_size=MAX_HEAD, max_field_size=MAX_HEAD, max_headers=MAX_FIELDS,
            )
            sessions.append(session)
            name = listener.target.name
            forwarder = Forwarder(name, sources[name], upstream, session, log, timeout,
                                  Admission.of(listener, opts))
            forwarders.setdefault(name, forwarder)
            runner = web.ServerRunner(make_server(forwarder.handle),
                                      shutdown_timeout=SHUTDOWN_GRACE)
            await runner.setup()
            runners.append(runner)
            await web.SockSite(runner, listener.sock, shutdown_timeout=SHUTDOWN_GRACE).start()
        # Only now, with SIGTERM handled: whoever starts the proxy may stop it
        # as soon as it has read the addresses.
        for listener in listeners:
            deps.io.write_out(f"{listener.target.name}: {listener.address} (forwards to "
                              f"{listener.upstream})\n")
        # Ask for each target's first credential now, so that a problem shows at
        # once rather than at the scanner's first request.
        for forwarder in forwarders.values():
            forwarder.fetch().add_done_callback(_ignore)
        await stop.wait()
    finally:
        for started in runners:
            await started.cleanup()
        for session in sessions:
            await session.close()
    if not opts.quiet:
        deps.io.err.print("astra-auth proxy stopped.", markup=False, highlight=False)


def _ignore(done: asyncio.Future[Any]) -> None:
    """A warm-up's failure is reported through the source's log; requests try again."""
    if not done.cancelled():
        done.exception()


_SILENT = logging.getLogger("astra_auth.proxy.aiohttp")


def _quiet_library_logs() -> None:
    """aiohttp and asyncio log a broken connection with its traceback; nothing
    of that may reach the terminal (it could quote a header)."""
    _SILENT.propagate = False
    _SILENT.addHandler(logging.NullHandler())
    for name in ("aiohttp", "asyncio"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
