"""The proxy's server: aiohttp's HTTP server and client, streaming both ways.

aiohttp parses and writes HTTP; this module only decides what to forward.
Per request: drop hop-by-hop headers (RFC 9110 §7.6.1) and the client's own
credential, add the target's (or none, for `X-Astra-Auth: none`), forward with
the upstream's own Host, and stream the answer back.  A 401 asks the credential
source whether a renewal can help, and the request is sent once more when its
body was kept (at most 1 MiB); larger bodies stream and are not retried.

Credentials come from `astra_auth.credential.CredentialSource` only, called in a
worker thread (it blocks on the keyring and the token endpoint, and is
single-flight inside: concurrent requests share one token request).  The proxy
keeps no token of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from astra_auth import safetext
from astra_auth.credential import (
    RENEW_AT_SHARE,
    Credential,
    CredentialSource,
    SourceSettings,
    network,
    open_source,
)
from astra_auth.errors import AstraError
from astra_auth.oauth.redact import Redactor

if TYPE_CHECKING:
    from multidict import MultiMapping

    from astra_auth.config import Target
    from astra_auth.deps import Deps
    from astra_auth.proxy import Listener, ProxyOptions

T = TypeVar("T")
# A request body as forwarded: kept whole, or streaming on.
Body = bytes | AsyncIterator[bytes] | aiohttp.StreamReader | None
# A request body up to this size is kept, so that it can be sent again after
# a 401; a larger one streams through and a 401 is passed on as it is.
KEEP_LIMIT = 1024 * 1024
# RFC 9110 §7.6.1 (and the older Keep-Alive, Proxy-Connection, Trailers).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})
# Host is the upstream's own; Expect is answered here; X-Astra-Auth is ours.
REQUEST_DROP = HOP_BY_HOP | {"host", "expect", "x-astra-auth"}
RESPONSE_DROP = HOP_BY_HOP | {"content-length"}  # set through content_length
# Headers as long as real scanners send (big cookies, JWTs): aiohttp's default
# of 8190 bytes per line would answer them 400 itself.
MAX_FIELD = 65536
# An answer of known length up to this size is read whole and sent in one write.
SMALL_BODY = 64 * 1024
# Seconds that in-flight requests get to finish on Ctrl-C or SIGTERM.
SHUTDOWN_GRACE = 3.0

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

    def __init__(self, deps: Deps, quiet: bool) -> None:
        self._deps = deps
        self._quiet = quiet
        self._lock = threading.Lock()
        self.redactor = Redactor()

    def event(self, kind: str, text: str) -> None:
        """A line from a credential source (called in worker threads)."""
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
        self.redactor.add(credential.value)
        self.redactor.add(credential.token)


@dataclass
class Upstream:
    base: str  # where requests go: scheme://host[:port][/path], no trailing slash
    origin: str  # the API's origin as configured, for messages
    host: str
    proxy: str | None
    host_header: str | None  # set when `base` is a pinned loopback address


class Forwarder:
    """Everything one listening port needs: its target's source and upstream."""

    def __init__(self, name: str, source: CredentialSource, upstream: Upstream,
                 session: aiohttp.ClientSession, log: Log, timeout: float,
                 executor: ThreadPoolExecutor, address: str) -> None:
        self.name = name
        self.address = address
        self.source = source
        self.executor = executor
        self.upstream = upstream
        self.session = session
        self.log = log
        self.timeout = timeout
        self._last: Credential | None = None

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await self._forward(request)
        except ConnectionResetError:
            raise  # the client went away; aiohttp closes the connection quietly
        except Exception as exc:  # noqa: BLE001 - one broken request must not stop the proxy
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f" at {tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" \
                if tb else ""
            # Never the exception's text: it may hold a header value.
            self.log.failure(f"{self.name}: internal error ({type(exc).__name__}{where}); "
                             "this is a bug, please report it")
            return _error_response(500, "internal_error",
                                   "astra-auth proxy failed on this request (a bug)", None)

    async def _forward(self, request: web.BaseRequest) -> web.StreamResponse:
        if not request.raw_path.startswith("/"):
            # "GET http://host/..." or "CONNECT host:443": a scanner set up to use
            # this as a forward proxy.  Never forwarded anywhere.
            return _error_response(
                400, "not_a_forward_proxy",
                "astra-auth proxy is a reverse proxy: send it the API's requests as to "
                "the API itself (GET /path), not as to a forward proxy",
                f"Make {self.address} the scanner's target instead of its proxy (README: "
                "scanners that only know forward proxies).")
        headers = _forwarded_headers(request.headers)
        if self.upstream.host_header is not None:
            headers["Host"] = self.upstream.host_header
        url = self.upstream.base + request.raw_path
        anonymous = request.headers.get("X-Astra-Auth", "").strip().lower() == "none"
        credential = None
        if not anonymous:
            try:
                credential = await self._credential()
            except AstraError as exc:
                return self._no_credential(exc)
        if request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body, kept = await _body(request)
        try:
            response = await self._send(request.method, url, headers, credential, body)
            if response.status == 401 and credential is not None and kept:
                challenge = response.headers.get("WWW-Authenticate")
                try:
                    retry = await self._blocking(self.source.renew, credential, challenge)
                except AstraError as exc:
                    response.release()
                    return self._no_credential(exc)
                if retry is not None:
                    self.log.remember(retry)
                    response.release()
                    response = await self._send(request.method, url, headers, retry, body)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return self._unreachable(exc)
        return await self._stream_back(request, response)

    async def _credential(self) -> Credential:
        # The usual case, a fresh credential in memory, without a thread hop;
        # the source alone decides what is fresh.
        credential = self.source.peek()
        if credential is None:
            credential = await self._blocking(self.source.get)
        last = self._last
        if last is None or credential.value != last.value:
            self._last = credential
            self.log.remember(credential)
        return credential

    async def _blocking(self, call: Callable[..., T], *args: object) -> T:
        """Run a credential call in this target's own threads: a slow token
        endpoint never holds up another target, nor the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, call, *args)

    async def _send(self, method: str, url: str, headers: CIMultiDict[str],
                    credential: Credential | None, body: Body) -> aiohttp.ClientResponse:
        if credential is not None:
            headers = headers.copy()
            url = credential.apply(headers, url)
        return await self.session.request(
            method, URL(url, encoded=True), headers=headers, data=body,
            allow_redirects=False, proxy=self.upstream.proxy,
        )

    async def _stream_back(self, request: web.BaseRequest,
                           response: aiohttp.ClientResponse) -> web.StreamResponse:
        drop = RESPONSE_DROP | _connection_tokens(response.headers)
        headers = CIMultiDict((k, v) for k, v in response.headers.items()
                              if k.lower() not in drop)
        length = response.content_length
        if length is not None and length <= SMALL_BODY and request.method != "HEAD":
            # Most API answers: read whole (it is in the buffer already) and sent
            # with the headers in one write, instead of one write per part.
            try:
                body = await response.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                return self._unreachable(exc)
            finally:
                response.release()
            return web.Response(status=response.status, reason=response.reason,
                                headers=headers, body=body)
        out = web.StreamResponse(status=response.status, reason=response.reason,
                                 headers=headers)
        if length is not None and _may_have_body(response.status):
            out.content_length = length
        try:
            await out.prepare(request)
            async for chunk in response.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The answer broke off after its start was sent: the client must see
            # a cut-off answer, not a complete-looking short one.
            self.log.failure(f"{self.name}: {request.method} answer cut off by the API "
                             f"({_category(exc)})")
            if request.transport is not None:
                request.transport.close()
        finally:
            response.release()
        return out

    def _no_credential(self, exc: AstraError) -> web.Response:
        category = getattr(exc, "category", None) or "missing_secret"
        hint = exc.hints[0] if exc.hints else None
        if not hasattr(exc, "category"):  # a TokenError has already been reported
            self.log.failure(f"{self.name}: no credential: {exc.message}")
        return _error_response(502, category, self.log.redactor.redact(exc.message),
                               self.log.redactor.redact(hint) if hint else None)

    def _unreachable(self, exc: BaseException) -> web.Response:
        category = _category(exc)
        up = self.upstream
        hint = HINTS[category].format(origin=up.origin, host=up.host, name=self.name,
                                      timeout=self.timeout)
        message = (f"the API at {up.origin} did not answer within {self.timeout:g} s"
                   if category == "timeout"
                   else f"the API at {up.origin} could not be reached: {category}")
        self.log.failure(f"{self.name}: {message}")
        return _error_response(504 if category == "timeout" else 502, category, message, hint)


def _category(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns_error"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "tls_error"
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if exc.os_error.errno == errno.ECONNREFUSED:
            return "connection_refused"
    return "connection_error"


def _error_response(status: int, category: str, message: str, hint: str | None
                    ) -> web.Response:
    body = {"error": {"category": category, "message": message, "hint": hint}}
    return web.Response(status=status, text=safetext.dumps(body),
                        content_type="application/json", headers={"Cache-Control": "no-store"})


def _connection_tokens(headers: MultiMapping[str]) -> frozenset[str]:
    """Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1)."""
    values = headers.getall("Connection", [])
    return frozenset(t.strip().lower() for v in values for t in v.split(",") if t.strip())


def _forwarded_headers(incoming: MultiMapping[str]) -> CIMultiDict[str]:
    drop = REQUEST_DROP | _connection_tokens(incoming)
    return CIMultiDict((k, v) for k, v in incoming.items() if k.lower() not in drop)


def _may_have_body(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


async def _body(request: web.BaseRequest) -> tuple[Body, bool]:
    """The request body to forward, and whether it was kept for a retry.

    Up to KEEP_LIMIT it is read whole (and can be sent twice); beyond that
    what was read goes first and the rest streams on as it arrives.
    """
    if not request.body_exists:
        return None, True
    if request.content_length is not None and request.content_length > KEEP_LIMIT:
        return request.content, False
    buffer = bytearray()
    while len(buffer) <= KEEP_LIMIT:
        chunk = await request.content.readany()
        if not chunk:
            return bytes(buffer), True
        buffer += chunk
    return _chain(bytes(buffer), request.content), False


async def _chain(first: bytes, rest: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest.iter_any():
        yield chunk


def _upstream(listener: Listener, environ: Mapping[str, str]) -> Upstream:
    from astra_auth.oauth.transport import environment_proxy

    parts = urlsplit(listener.upstream)
    # HTTP(S)_PROXY / NO_PROXY as for token requests, never for loopback (issue
    # 15, finding 10).  Not aiohttp's trust_env: it would also read ~/.netrc and
    # add its passwords to requests sent with X-Astra-Auth: none.
    return Upstream(base=listener.connect or listener.upstream,
                    origin=f"{parts.scheme}://{parts.netloc}", host=parts.hostname or "",
                    proxy=environment_proxy(listener.upstream, environ),
                    host_header=listener.host_header)


# ---------------------------------------------------------------------------
# Running it


def serve(listeners: list[Listener], opts: ProxyOptions, deps: Deps) -> None:
    """Serve until Ctrl-C or SIGTERM; returns normally then (exit 0)."""
    log = Log(deps, opts.quiet)
    settings = SourceSettings(timeout=opts.timeout, ca_bundle=opts.ca_bundle,
                              renew_share=RENEW_AT_SHARE, on_event=log.event)
    sources: dict[str, CredentialSource] = {}
    for listener in listeners:
        name = listener.target.name
        if name not in sources:
            sources[name] = open_source(listener.target, deps, settings)
    identities = {name: _identity(listener.target, deps) for listener in listeners
                  for name in [listener.target.name]}
    for listener in listeners:
        deps.io.write_out(f"{listener.target.name}: {listener.address} (forwards to "
                          f"{listener.upstream})\n")
    _quiet_aiohttp_logs()
    with contextlib.suppress(KeyboardInterrupt):  # where signals cannot be handled
        _run_loop(_main(listeners, sources, opts, deps, log, identities))


def _identity(target: Target, deps: Deps) -> Any:
    """The client certificate the proxy presents to this target's API, for
    certificate-bound tokens (RFC 8705 §3); None for the others.  A key that
    cannot be used stops the proxy before it listens (exit 3)."""
    from astra_auth.credentials import MissingSecret, client_key, presents_certificate

    if not presents_certificate(target, to_api=True):
        return None
    try:
        return client_key(target, deps)
    except MissingSecret as exc:
        from astra_auth.oauth.hints import Context, hints_for
        from astra_auth.tokens import TokenError

        raise TokenError(exc.failure, hints_for(exc.failure, Context.of(target))) from None


def _run_loop(main: object) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)  # type: ignore[arg-type]
        return
    uvloop.run(main)  # type: ignore[arg-type]


async def _main(listeners: list[Listener], sources: dict[str, CredentialSource],
                opts: ProxyOptions, deps: Deps, log: Log,
                identities: dict[str, Any] | None = None) -> None:
    from astra_auth.oauth.transport import ssl_context

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.add_signal_handler(sig, stop.set)
    runners: list[web.BaseRunner] = []
    sessions: list[aiohttp.ClientSession] = []
    executors = {name: ThreadPoolExecutor(max_workers=8, thread_name_prefix=f"astra-{name}")
                 for name in sources}
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
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout,
                                              sock_read=timeout),
                auto_decompress=False,
                # Send only what the client sent: no default Accept, User-Agent...
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
                max_line_size=MAX_FIELD, max_field_size=MAX_FIELD,
            )
            sessions.append(session)
            name = listener.target.name
            forwarder = Forwarder(name, sources[name], upstream, session, log, timeout,
                                  executors[name], listener.address)
            server = web.Server(forwarder.handle, access_log=None, auto_decompress=False,
                                max_line_size=MAX_FIELD, max_field_size=MAX_FIELD,
                                logger=_SILENT)
            runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_GRACE)
            await runner.setup()
            runners.append(runner)
            await web.SockSite(runner, listener.sock, shutdown_timeout=SHUTDOWN_GRACE).start()
        # Ask for each target's first credential now, so that a problem shows at
        # once rather than at the scanner's first request.
        for name, source in sources.items():
            loop.run_in_executor(executors[name], _warm_up, source, log)
        await stop.wait()
    finally:
        for started in runners:
            await started.cleanup()
        for session in sessions:
            await session.close()
        for executor in executors.values():
            # A token request still running ends on its own timeout; not waited for.
            executor.shutdown(wait=False, cancel_futures=True)
    if not opts.quiet:
        deps.io.err.print("astra-auth proxy stopped.", markup=False, highlight=False)


def _warm_up(source: CredentialSource, log: Log) -> None:
    try:
        log.remember(source.get())
    except AstraError:
        pass  # reported through the source's on_event; requests will try again


_SILENT = logging.getLogger("astra_auth.proxy.aiohttp")


def _quiet_aiohttp_logs() -> None:
    """aiohttp logs a broken connection with its traceback; nothing of that may
    reach the terminal (it could quote a header)."""
    _SILENT.propagate = False
    _SILENT.addHandler(logging.NullHandler())
    for name in ("aiohttp", "aiohttp.server", "aiohttp.access", "aiohttp.client",
                 "aiohttp.internal", "aiohttp.web"):
        logging.getLogger(name).addHandler(logging.NullHandler())
