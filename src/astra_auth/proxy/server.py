"""The proxy's forwarding rules, over the HTTP/1.1 plumbing of `wire`.

`wire` parses (llhttp) and moves bytes; this module decides what to forward.
Per request: drop hop-by-hop headers (RFC 9110 §7.6.1) and the client's own
credential, add the target's (or none, for `X-Astra-Auth: none`), forward with
the upstream's own Host, and stream the answer back.  A 401 asks the credential
source whether a renewal can help, and the request is sent once more when its
body was kept (at most 1 MiB); larger bodies stream and are not retried.

Credentials come from `astra_auth.credentials.interface.CredentialSource` only: `peek()`
in the event loop for a fresh one in memory, else `get()` in a worker thread
(it blocks on the keyring and the token endpoint, and is single-flight inside:
concurrent requests share one token request).  The proxy keeps no token of
its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from astra_auth.core.errors import AstraError, bug_location
from astra_auth.credentials.interface import (
    Credential,
    CredentialSource,
    SourceSettings,
    network,
    open_source,
)
from astra_auth.proxy import wire
from astra_auth.proxy.wire import (
    Answer,
    Body,
    ClientGone,
    Downstream,
    Incoming,
    Pool,
    Refusal,
    Route,
    UpstreamError,
)
from astra_auth.text import safetext
from astra_auth.text.redact import Redactor

if TYPE_CHECKING:
    from astra_auth.deps import Deps
    from astra_auth.proxy import Listener, ProxyOptions
    from astra_auth.storage.config import Target

T = TypeVar("T")
P = ParamSpec("P")
# A request body up to this size is kept, so that it can be sent again after
# a 401; a larger one streams through and a 401 is passed on as it is.
KEEP_LIMIT = 1024 * 1024
# RFC 9110 §7.6.1 (and the older Keep-Alive, Proxy-Connection, Trailers).
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate",
    b"proxy-authorization", b"te", b"trailer", b"trailers", b"transfer-encoding", b"upgrade",
})
# RFC 9110 9.2.2: these alone may be sent again after a connection broke.
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})
# Host is the upstream's own; Expect is answered here; X-Astra-Auth is ours;
# the body's framing is set again for what is sent.
REQUEST_DROP = HOP_BY_HOP | {b"host", b"expect", b"x-astra-auth", b"content-length"}
RESPONSE_DROP = HOP_BY_HOP | {b"content-length"}  # set again for what is sent
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


class Workers(Executor):
    """One target's threads for credential calls, up to `count`, started as
    needed (as ThreadPoolExecutor does).  Unlike ThreadPoolExecutor's, they
    are daemon threads, never joined: a token request still running when the
    proxy stops, which would end only on its own timeout, must not hold up
    the exit that Ctrl-C or SIGTERM asked for."""

    def __init__(self, name: str, count: int = 8) -> None:
        self._name = name
        self._count = count
        self._started = 0
        self._idle = threading.Semaphore(0)
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = \
            queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the proxy is stopping")
            self._jobs.put((future, lambda: fn(*args, **kwargs)))
            if not self._idle.acquire(blocking=False) and self._started < self._count:
                self._started += 1
                threading.Thread(target=self._work, name=f"astra-{self._name}-{self._started}",
                                 daemon=True).start()
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, call = job
            if future.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del job, future, call
            self._idle.release()
        self._jobs.put(None)  # for the next thread

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Never waits (see the class): a call still running is left to end."""
        with self._lock:
            self._closed = True
        while cancel_futures:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        self._jobs.put(None)


class Forwarder:
    """Everything one listening port needs: its target's source and upstream."""

    def __init__(self, name: str, source: CredentialSource, upstream: Upstream, pool: Pool,
                 log: Log, timeout: float, executor: Workers, address: str) -> None:
        self.name = name
        self.address = address
        self.source = source
        self.executor = executor
        self.upstream = upstream
        self.pool = pool
        self.log = log
        self.timeout = timeout
        self._last: Credential | None = None

    async def handle(self, request: Incoming, conn: Downstream) -> None:
        try:
            await self._forward(request, conn)
        except (ClientGone, asyncio.CancelledError):
            raise  # the scanner went away; its connection is closed quietly
        except Exception as exc:  # noqa: BLE001 - one broken request must not stop the proxy
            # Never the exception's text: it may hold a header value.
            self.log.failure(f"{self.name}: internal error ({type(exc).__name__}"
                             f"{bug_location(exc)}); "
                             "this is a bug, please report it")
            if conn.busy_answering:
                conn.abort()
                return
            _error_response(conn, request, 500, "internal_error",
                            "astra-auth proxy failed on this request (a bug)", None)

    async def _forward(self, request: Incoming, conn: Downstream) -> None:
        if not request.target.startswith(b"/"):
            # "GET http://host/..." or "CONNECT host:443": a scanner set up to use
            # this as a forward proxy.  Never forwarded anywhere.
            _error_response(
                conn, request, 400, "not_a_forward_proxy",
                "astra-auth proxy is a reverse proxy: send it the API's requests as to "
                "the API itself (GET /path), not as to a forward proxy",
                f"Make {self.address} the scanner's target instead of its proxy (README: "
                "scanners that only know forward proxies).")
            return
        headers, anonymous = _forwarded_headers(request)
        credential = None
        if not anonymous:
            try:
                credential = await self._credential()
            except AstraError as exc:
                self._no_credential(conn, request, exc)
                return
        if request.expects_continue and request.body is not None:
            conn.write_raw(b"HTTP/1.1 100 Continue\r\n\r\n")
        body, kept = await _body(request)
        target = request.target.decode("latin-1")
        try:
            answer = await self._send(request, target, headers, credential, body)
            if answer.status == 401 and credential is not None and kept:
                challenge = _header(answer.headers, b"www-authenticate")
                try:
                    retry = await self._blocking(self.source.renew, credential, challenge)
                except AstraError as exc:
                    answer.discard()
                    self._no_credential(conn, request, exc)
                    return
                if retry is not None:
                    self.log.remember(retry)
                    answer.discard()
                    answer = await self._send(request, target, headers, retry, body)
        except UpstreamError as exc:
            self._unreachable(conn, request, exc.cause)
            return
        await self._stream_back(request, conn, answer)

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

    async def _send(self, request: Incoming, target: str, headers: Fields,
                    credential: Credential | None, body: bytes | Body | None) -> Answer:
        up = self.upstream
        path = up.path + target
        if credential is not None:
            headers = headers.copy()
            url = credential.apply(headers, up.origin + path)
            path = url[len(up.origin):] if url.startswith(up.origin) else path
        lines = [f"Host: {up.host_header}\r\n"]
        lines.extend(headers.lines())
        chunked = False
        if isinstance(body, bytes):  # the scanner framed a body, perhaps an empty one
            lines.append(f"Content-Length: {len(body)}\r\n")
        elif body is not None:
            if body.length is not None:
                lines.append(f"Content-Length: {body.length}\r\n")
            else:
                chunked = True
                lines.append("Transfer-Encoding: chunked\r\n")
        fields = "".join(lines).encode("latin-1")
        method = request.method

        def head(absolute: bool) -> bytes:
            if absolute:  # through an HTTP proxy, to a plain-http API
                extra = b"Proxy-Authorization: %b\r\n" % up.proxy_auth if up.proxy_auth else b""
                return b"%b %b%b HTTP/1.1\r\n%b%b\r\n" % (
                    method, up.origin.encode("latin-1"), path.encode("latin-1"), fields, extra)
            return b"%b %b HTTP/1.1\r\n%b\r\n" % (method, path.encode("latin-1"), fields)

        return await self.pool.send(head, body, chunked, method == b"HEAD", self.timeout,
                                    method in IDEMPOTENT)

    async def _stream_back(self, request: Incoming, conn: Downstream, answer: Answer) -> None:
        headers = _answer_headers(answer)
        status = answer.status
        if request.method == b"HEAD" or status in (204, 304):
            if answer.length is not None and status != 204:
                headers.append((b"Content-Length", b"%d" % answer.length))
            _keep_alive_header(request, headers)
            conn.write_raw(wire.head(status, answer.reason, headers))
            answer.discard()
            return
        whole = answer.whole()
        if whole is None and answer.length is not None and answer.length <= SMALL_BODY:
            # A small answer is read whole before anything is sent, so that one
            # the API breaks off is a clean 502 rather than a cut-off answer.
            try:
                whole = await answer.read()
            except UpstreamError as exc:
                self._unreachable(conn, request, exc.cause)
                return
        if whole is not None:
            # Most API answers: all of it is here already, sent in one write.
            headers.append((b"Content-Length", b"%d" % len(whole)))
            _keep_alive_header(request, headers)
            conn.write_raw(wire.head(status, answer.reason, headers) + whole)
            return
        if answer.length is not None:
            headers.append((b"Content-Length", b"%d" % answer.length))
        elif request.http10:
            request.keep_alive = False  # the end of the body is the end of the connection
        else:
            headers.append((b"Transfer-Encoding", b"chunked"))
        _keep_alive_header(request, headers)
        conn.busy_answering = True
        conn.write_raw(wire.head(status, answer.reason, headers))
        conn.chunked = answer.length is None and not request.http10
        try:
            await answer.pipe(conn)
        except UpstreamError as exc:
            # The answer broke off after its start was sent: the scanner must see
            # a cut-off answer, not a complete-looking short one.
            self.log.failure(f"{self.name}: {request.method.decode('latin-1')} answer cut off "
                             f"by the API ({_category(exc.cause)})")
            conn.abort()
            return
        conn.end()
        conn.busy_answering = False

    def _no_credential(self, conn: Downstream, request: Incoming, exc: AstraError) -> None:
        category = getattr(exc, "category", None) or "missing_secret"
        hint = exc.hints[0] if exc.hints else None
        if not hasattr(exc, "category"):  # a CredentialError has already been reported
            self.log.failure(f"{self.name}: no credential: {exc.message}")
        _error_response(conn, request, 502, category, self.log.redactor.redact(exc.message),
                        self.log.redactor.redact(hint) if hint else None)

    def _unreachable(self, conn: Downstream, request: Incoming, exc: BaseException) -> None:
        category = _category(exc)
        up = self.upstream
        hint = HINTS[category].format(origin=up.origin, host=up.host, name=self.name,
                                      timeout=self.timeout)
        message = (f"the API at {up.origin} did not answer within {self.timeout:g} s"
                   if category == "timeout"
                   else f"the API at {up.origin} could not be reached: {category}")
        self.log.failure(f"{self.name}: {message}")
        _error_response(conn, request, 504 if category == "timeout" else 502, category, message,
                        hint)


def _category(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "dns_error"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls_error"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    return "connection_error"


def _error_response(conn: Downstream, request: Incoming | None, status: int, category: str,
                    message: str, hint: str | None) -> None:
    body = safetext.dumps({"error": {"category": category, "message": message,
                                     "hint": hint}}).encode("utf-8")
    headers = [(b"Content-Type", b"application/json; charset=utf-8"),
               (b"Cache-Control", b"no-store"), (b"Content-Length", b"%d" % len(body))]
    if request is None:
        headers.append((b"Connection", b"close"))
    else:
        _keep_alive_header(request, headers)
    conn.write_raw(wire.head(status, REASONS.get(status, b"Error"), headers) + body)


def _refuse(refusal: Refusal, conn: Downstream) -> None:
    """A request that could not be parsed: answered, then the connection closes."""
    _error_response(conn, None, refusal.status, refusal.category, refusal.message, None)


REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large",
           500: b"Internal Server Error", 501: b"Not Implemented", 502: b"Bad Gateway",
           504: b"Gateway Timeout"}


def _keep_alive_header(request: Incoming, headers: list[tuple[bytes, bytes]]) -> None:
    if not request.keep_alive:
        headers.append((b"Connection", b"close"))
    elif request.http10:
        headers.append((b"Connection", b"keep-alive"))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _connection_tokens(connection: bytes) -> frozenset[bytes]:
    """Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1)."""
    return frozenset(token.strip().lower() for token in connection.split(b",")
                     if token.strip())


def _forwarded_headers(request: Incoming) -> tuple[Fields, bool]:
    """The scanner's headers as they go to the API, and whether it asked for
    no credential (X-Astra-Auth: none)."""
    drop = REQUEST_DROP | _connection_tokens(request.connection) if request.connection \
        else REQUEST_DROP
    anonymous = False
    kept = []
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in drop:
            if lowered == b"x-astra-auth" and value.strip().lower() == b"none":
                anonymous = True
            continue
        kept.append((name.decode("latin-1"), value.decode("latin-1")))
    return Fields(kept), anonymous


class Fields(MutableMapping[str, str]):
    """Request headers as they go to the API: in order, a name as often as it
    came, names matched without regard to case.  `Credential.apply` edits it."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __getitem__(self, name: str) -> str:
        lowered = name.lower()
        for key, value in self._pairs:
            if key.lower() == lowered:
                return value
        raise KeyError(name)

    def getall(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self._pairs if key.lower() == lowered]

    def __setitem__(self, name: str, value: str) -> None:
        del self[name]
        self._pairs.append((name, value))

    def __delitem__(self, name: str) -> None:
        lowered = name.lower()
        self._pairs = [pair for pair in self._pairs if pair[0].lower() != lowered]

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def copy(self) -> Fields:
        return Fields(list(self._pairs))

    def lines(self) -> list[str]:
        return [f"{key}: {value}\r\n" for key, value in self._pairs]


def _answer_headers(answer: Answer) -> list[tuple[bytes, bytes]]:
    drop = RESPONSE_DROP | _connection_tokens(answer.connection) if answer.connection \
        else RESPONSE_DROP
    return [(name, value) for name, value in answer.headers if name.lower() not in drop]


async def _body(request: Incoming) -> tuple[bytes | Body | None, bool]:
    """The request body to forward, and whether it was kept for a retry.

    Up to KEEP_LIMIT it is read whole (and can be sent twice); beyond that
    what was read goes first and the rest streams on as it arrives.
    """
    body = request.body
    if body is None:
        return (b"" if request.framed else None), True
    if body.length is not None and body.length > KEEP_LIMIT:
        return body, False
    buffer = bytearray()
    while len(buffer) <= KEEP_LIMIT:
        chunk = await body.read()
        if not chunk:
            return bytes(buffer), True
        buffer += chunk
    body.unread(bytes(buffer))
    return body, False


@dataclass
class Upstream:
    origin: str  # the API's origin as configured: scheme://host[:port]
    path: str  # the base URL's path, without a trailing slash
    host: str
    host_header: str  # as the API expects it
    proxy_auth: bytes | None  # for an HTTP proxy on the way


def _upstream(listener: Listener, environ: Mapping[str, str], tls: ssl.SSLContext | None
              ) -> tuple[Upstream, Route]:
    from astra_auth.net.transport import environment_proxy

    parts = urlsplit(listener.upstream)
    connect = urlsplit(listener.connect or listener.upstream)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    # HTTP(S)_PROXY / NO_PROXY as for token requests, never for loopback (issue
    # 15, finding 10).  Not ~/.netrc: its passwords must not be added to
    # requests sent with X-Astra-Auth: none.
    proxy = environment_proxy(listener.upstream, environ)
    upstream = Upstream(origin=f"{parts.scheme}://{parts.netloc}", path=parts.path.rstrip("/"),
                        host=parts.hostname or "",
                        host_header=listener.host_header or parts.netloc.rpartition("@")[2],
                        proxy_auth=wire.proxy_authorization(proxy) if proxy else None)
    route = Route(scheme=parts.scheme, host=connect.hostname or "", port=connect.port or port,
                  server_name=parts.hostname or "", ssl=tls, proxy=proxy)
    return upstream, route


# ---------------------------------------------------------------------------
# Running it


def serve(listeners: list[Listener], opts: ProxyOptions, deps: Deps) -> None:
    """Serve until Ctrl-C or SIGTERM; returns normally then (exit 0)."""
    log = Log(deps, opts.quiet)
    settings = SourceSettings(timeout=opts.timeout, ca_bundle=opts.ca_bundle,
                              on_event=log.event)
    sources: dict[str, CredentialSource] = {}
    for listener in listeners:
        name = listener.target.name
        if name not in sources:
            sources[name] = open_source(listener.target, deps, settings)
    identities = {name: _identity(listener.target, deps) for listener in listeners
                  for name in [listener.target.name]}
    with contextlib.suppress(KeyboardInterrupt):  # where signals cannot be handled
        _run_loop(_main(listeners, sources, opts, deps, log, identities))


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
        from astra_auth.diagnosis.hints import Context, hints_for

        raise CredentialError(exc.failure, hints_for(exc.failure, Context.of(target))) from None


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
    from astra_auth.net.transport import ssl_context

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.add_signal_handler(sig, stop.set)
    servers: list[asyncio.AbstractServer] = []
    pools: list[Pool] = []
    connections: set[Downstream] = set()
    executors = {name: Workers(name) for name in sources}
    try:
        for listener in listeners:
            timeout, ca_bundle = network(listener.target, opts.timeout, opts.ca_bundle)
            tls = None
            if listener.upstream.startswith("https:"):
                tls = ssl_context(ca_bundle, deps.environ)
                identity = (identities or {}).get(listener.target.name)
                if identity is not None:
                    identity.load_identity(tls)
            upstream, route = _upstream(listener, deps.environ, tls)
            pool = Pool(route, timeout)
            pools.append(pool)
            name = listener.target.name
            forwarder = Forwarder(name, sources[name], upstream, pool, log, timeout,
                                  executors[name], listener.address)
            servers.append(await loop.create_server(
                lambda f=forwarder: Downstream(f.handle, _refuse, connections),  # type: ignore[misc]
                sock=listener.sock))
        # Only now, with SIGTERM handled: whoever starts the proxy may stop it
        # as soon as it has read the addresses.
        for listener in listeners:
            deps.io.write_out(f"{listener.target.name}: {listener.address} (forwards to "
                              f"{listener.upstream})\n")
        # Ask for each target's first credential now, so that a problem shows at
        # once rather than at the scanner's first request.
        for name, source in sources.items():
            loop.run_in_executor(executors[name], _warm_up, source, log)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5.0)
            wire.sweep_idle(connections, loop.time())
    finally:
        for server in servers:
            server.close()
        # Requests being answered get a moment to finish; idle connections close now.
        deadline = loop.time() + SHUTDOWN_GRACE
        while any(c.busy for c in connections) and loop.time() < deadline:
            for conn in [c for c in connections if not c.busy]:
                conn.close()
            await asyncio.sleep(0.05)
        for conn in list(connections):
            conn.abort() if conn.busy else conn.close()
        for pool in pools:
            pool.close()
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
