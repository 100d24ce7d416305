"""HTTP/1.1 on both sides of the proxy: llhttp parses, asyncio moves the bytes.

llhttp (Node.js's parser, through httptools, as uvicorn uses it) parses every
request from the scanner and every answer from the API; nothing here reads
HTTP syntax itself.  This module keeps the framing: which bytes make up one
message, keep-alive, pipelining in order, flow control both ways, and a pool
of kept-alive connections to the API.  What to forward is `server`'s decision.

Why not aiohttp's server and client, which the proxy used first: measured with
benchmarks/proxy.py on one machine, they spent ~100 µs of CPU a request on
their own machinery, capping the proxy at 0.3x the API's direct throughput;
this path spends a third of that (see the README's performance section).

Bytes stay bytes: header names and values go through as they were received
(llhttp has already refused CR, LF and NUL in them).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import httptools

# A request or answer head (request line and headers) larger than this is
# refused: real scanners send big cookies and JWTs, but not this big.
MAX_HEAD = 256 * 1024
# Body bytes buffered from the scanner before its connection stops being read.
BODY_HIGH = 256 * 1024
# Pipelined requests waiting for their turn before the scanner's connection
# stops being read (their answers wait for the scanner to read the last one).
PIPELINE = 16
# Seconds a scanner's connection may sit idle between requests (aiohttp's default).
KEEP_ALIVE_IDLE = 75.0
# Seconds a refused request's connection is still read (and dropped) before it closes.
LINGER = 2.0
# Idle connections to the API kept for reuse, per target.
POOL_IDLE = 256


class ClientGone(ConnectionError):
    """The scanner closed its connection before its request was answered."""


class UpstreamError(Exception):
    """The API could not be reached, or its answer broke off.  `cause` says
    why: an OSError (refused, reset...), ssl.SSLError, TimeoutError, or
    httptools.HttpParserError (or HttpParserUpgrade, for a 101) for an answer
    that is not HTTP/1.1."""

    def __init__(self, cause: BaseException, *, started: bool = False) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause
        self.started = started  # part of an answer had arrived


# ---------------------------------------------------------------------------
# The scanner's side


class Body:
    """A request body as it arrives: `read()` gives the next piece, b"" at the end."""

    __slots__ = ("_chunks", "_conn", "_failed", "_size", "_waiter", "done", "length")

    def __init__(self, conn: Downstream, length: int | None) -> None:
        self._conn = conn
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._waiter: asyncio.Future[None] | None = None
        self._failed = False
        self.done = False
        self.length = length  # Content-Length, or None for a chunked body

    def unread(self, data: bytes) -> None:
        """Put back what was read, to be read again first."""
        if data:
            self._chunks.appendleft(data)
            self._size += len(data)

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > BODY_HIGH:
            self._conn._pause_reading()
        self._wake()

    def _finish(self) -> None:
        self.done = True
        self._wake()

    def _fail(self) -> None:
        self._failed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read(self) -> bytes:
        while not self._chunks:
            if self._failed:
                raise ClientGone("the scanner closed the connection mid-body")
            if self.done:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None
        chunk = self._chunks.popleft()
        self._size -= len(chunk)
        if self._size <= BODY_HIGH // 2:
            self._conn._resume_reading()
        return chunk


class Incoming:
    """One request from the scanner, its head complete (the body may follow)."""

    __slots__ = ("body", "connection", "expects_continue", "framed", "headers", "http10",
                 "keep_alive", "method", "target")

    def __init__(self) -> None:
        self.method = b""
        self.target = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: Body | None = None
        self.keep_alive = True
        self.http10 = False
        self.expects_continue = False
        self.framed = False  # a Content-Length or Transfer-Encoding announced a body
        self.connection = b""  # the Connection header's values, for hop-by-hop names


@dataclass
class Refusal:
    """A request that cannot be parsed: answered in its turn, then the connection closes."""

    status: int
    category: str
    message: str


class _Refused(Exception):
    """Raised in llhttp's callbacks for a request it accepts but this proxy
    does not: llhttp stops, and `refusal` is the answer."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


TOO_LARGE = Refusal(431, "request_too_large",
                    f"the request's head is larger than {MAX_HEAD // 1024} KiB")
# RFC 9112 6.1: a transfer coding the proxy cannot decode (llhttp decodes chunked only).
UNSUPPORTED_CODING = Refusal(501, "bad_request", "the request's body has a transfer coding "
                             "other than chunked: send it with Content-Length, or chunked alone")

Handler = Callable[[Incoming, "Downstream"], Awaitable[None]]
Refuse = Callable[[Refusal, "Downstream"], None]


class Downstream(asyncio.Protocol):
    """One connection from the scanner.  Requests are answered one at a time,
    in the order they came (pipelining included), by `handler`."""

    def __init__(self, handler: Handler, refuse: Refuse, connections: set[Downstream]) -> None:
        self._handler = handler
        self._refuse = refuse
        self._connections = connections
        self.transport: asyncio.Transport | None = None
        self._parser: httptools.HttpRequestParser | None = None
        self._queue: collections.deque[Incoming | Refusal] = collections.deque()
        self._ready: asyncio.Future[None] | None = None
        self._current: Incoming | None = None
        self._head_bytes = 0  # bytes read of the head being read; -1 in a body
        self._read_size = 0  # of the read being parsed
        self._reading = True
        self._writable = True
        self._drained: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        # When the connection last became idle (between requests); `sweep_idle`
        # closes it after KEEP_ALIVE_IDLE seconds.  A head being read does not
        # reset it (one that never ends is a connection that does nothing);
        # None from a complete head until its request is answered.
        self.idle_since: float | None = None
        self.closed = False
        self.busy = False  # a request is being answered
        # Called with False when the scanner stops reading, True when it reads again.
        self.on_writable: Callable[[bool], None] | None = None
        self.chunked = False  # the answer being sent is chunked
        self.busy_answering = False  # an answer's head has gone out, its body not all

    # asyncio.Protocol

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._parser = httptools.HttpRequestParser(self)
        self._connections.add(self)
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._serve())
        self.idle_since = loop.time()

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            return  # refusing, or closing: nothing more is read
        self._read_size = len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # CONNECT, or an Upgrade this proxy does not perform: the request
            # is answered as HTTP/1.1 (or refused), and the connection closes
            # (on_message_complete has said so in its answer).
            self._parser = None
        except httptools.HttpParserError as exc:
            if self._current is not None and self._current.body is not None:
                self._current.body._fail()
            refused = exc.__context__
            self._stop(refused.refusal if isinstance(refused, _Refused)
                       else Refusal(400, "bad_request", "not a valid HTTP/1.1 request"))
            return
        if self._head_bytes >= 0 and self._parser is not None:
            # Still inside a head after this read: count it (llhttp would keep
            # collecting a header without end).  A read that completes a head
            # is measured by on_headers_complete, without a body that came with it.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._stop(TOO_LARGE)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._connections.discard(self)
        for item in (self._current, *self._queue):
            if isinstance(item, Incoming) and item.body is not None:
                item.body._fail()
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if self.busy and self._task is not None:
            self._task.cancel()  # the answer has nobody to go to

    def pause_writing(self) -> None:
        self._writable = False
        if self.on_writable is not None:
            self.on_writable(False)

    def resume_writing(self) -> None:
        self._writable = True
        if self.on_writable is not None:
            self.on_writable(True)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # llhttp's callbacks

    def on_message_begin(self) -> None:
        self._current = Incoming()

    def on_url(self, url: bytes) -> None:
        assert self._current is not None
        self._current.target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self._current is not None
        if self._head_bytes >= 0:  # not a chunked body's trailer: those are dropped
            self._current.headers.append((name, value))

    def on_headers_complete(self) -> None:
        request = self._current
        parser = self._parser
        assert request is not None and parser is not None
        if self._head_bytes + self._read_size > MAX_HEAD \
                and head_size(request.target, request.headers) > MAX_HEAD:
            raise _Refused(TOO_LARGE)
        self._head_bytes = -1
        self.idle_since = None
        request.method = parser.get_method()
        request.http10 = parser.get_http_version() == "1.0"
        request.keep_alive = parser.should_keep_alive()
        length: int | None = None
        framed = False
        for name, value in request.headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length, framed = int(value), True  # llhttp has checked it is a number
            elif lowered == b"transfer-encoding":
                framed = True
                if value.strip().lower() != b"chunked":  # llhttp has checked it ends so
                    raise _Refused(UNSUPPORTED_CODING)
            elif lowered == b"connection":
                request.connection += b"," + value
            elif lowered == b"expect" and value.strip().lower() == b"100-continue":
                request.expects_continue = True
        request.framed = framed
        if framed and length != 0:
            request.body = Body(self, length)
        self._queue.append(request)
        if len(self._queue) >= PIPELINE:
            self._pause_reading()
        self._wake()

    def on_body(self, body: bytes) -> None:
        assert self._current is not None and self._current.body is not None
        self._current.body._feed(body)

    def on_message_complete(self) -> None:
        request = self._current
        assert request is not None
        parser = self._parser
        if parser is not None:
            request.keep_alive = (request.keep_alive and parser.should_keep_alive()
                                  and not parser.should_upgrade())
        if request.body is not None:
            request.body._finish()
        self._current = None
        self._head_bytes = 0

    # Answering

    @property
    def writable(self) -> bool:
        return self._writable

    def write(self, data: bytes) -> None:
        """Part of the answer, framed as the answer's head said."""
        if self.closed or self.transport is None:
            return
        if self.chunked:
            if data:
                self.transport.write(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            self.transport.write(data)

    def write_raw(self, data: bytes) -> None:
        """Bytes as they are: a whole answer, or an answer's head."""
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def end(self) -> None:
        """The answer is complete."""
        if self.chunked and self.transport is not None:
            self.transport.write(b"0\r\n\r\n")
        self.chunked = False

    async def drain(self) -> None:
        if self._writable or self.closed:
            return
        self._drained = asyncio.get_running_loop().create_future()
        await self._drained
        if self.closed:
            raise ClientGone("the scanner closed the connection")

    def abort(self) -> None:
        """Break the connection: an answer that cannot be completed must not
        look complete."""
        self._parser = None
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        """Close once what was written has gone out (the proxy stops)."""
        self._parser = None
        if self.transport is not None and not self.closed:
            self.transport.close()

    # Serving

    async def _serve(self) -> None:
        while True:
            while not self._queue:
                if self.closed:
                    return
                self._ready = asyncio.get_running_loop().create_future()
                await self._ready
                self._ready = None
            item = self._queue.popleft()
            if not self._reading:  # perhaps paused for PIPELINE requests
                self._resume_reading()
            if isinstance(item, Refusal):
                self._refuse(item, self)
                self._linger()
                return
            self.busy = True
            try:
                await self._handler(item, self)
            except (ClientGone, asyncio.CancelledError):
                if self._queue and isinstance(self._queue[0], Refusal) and not self.closed \
                        and not self.busy_answering:
                    continue  # its body was not HTTP (a bad chunk): the refusal is the answer
                self.abort()
                return
            finally:
                self.busy = False
                self.on_writable = None
                self.chunked = False
            if self.busy_answering:  # the answer was not completed
                self.abort()
                return
            if item.body is not None and not item.body.done:
                self._linger()  # answered before its body was read (a 502, say)
                return
            if self.closed or not item.keep_alive or self._parser is None:
                self.close()
                return
            if not self._queue:  # nothing, or only the start of a head, to answer
                self.idle_since = asyncio.get_running_loop().time()
            if not self._writable:
                # The scanner does not read its answers: the next one waits
                # (and, past PIPELINE requests, so does reading them).
                try:
                    await self.drain()
                except ClientGone:
                    return

    def _linger(self) -> None:
        """Close after a refusal without losing it: our side ends first, and
        what the scanner still sends is read and dropped for a moment, so that
        its kernel does not discard the answer on a reset."""
        transport = self.transport
        if transport is None or self.closed:
            return
        if transport.can_write_eof():
            transport.write_eof()
            asyncio.get_running_loop().call_later(LINGER, self.close)
        else:
            self.close()

    def _wake(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    def _stop(self, refusal: Refusal) -> None:
        self._parser = None
        self._queue.append(refusal)
        self._wake()


    def _pause_reading(self) -> None:
        if self._reading and self.transport is not None and not self.closed:
            self._reading = False
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading or self.transport is None or self.closed:
            return
        if len(self._queue) >= PIPELINE:
            return  # requests enough to answer first
        current = self._current
        if current is not None and current.body is not None and current.body._size > BODY_HIGH:
            return  # a body nobody reads yet
        self._reading = True
        self.transport.resume_reading()


def head_size(start: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """About the bytes of a head: its start line's variable part and its fields."""
    return len(start) + 16 + sum(len(name) + len(value) + 4 for name, value in headers)


def sweep_idle(connections: set[Downstream], now: float) -> None:
    """Close the scanner's connections idle for longer than KEEP_ALIVE_IDLE
    (one timer for all of them, rather than one per request)."""
    for conn in list(connections):
        since = conn.idle_since
        if since is not None and now - since > KEEP_ALIVE_IDLE and not conn.busy:
            conn.close()


def head(status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """An answer's status line and headers, as sent to the scanner."""
    lines = [b"HTTP/1.1 %d %b\r\n" % (status, reason)]
    lines.extend(b"%b: %b\r\n" % pair for pair in headers)
    lines.append(b"\r\n")
    return b"".join(lines)


# ---------------------------------------------------------------------------
# The API's side


class Answer:
    """The API's answer to one request: its head, then its body as it comes.

    Body pieces that arrive before `pipe` is called are kept, up to BODY_HIGH
    bytes, then the API's connection is no longer read (a 401 waiting for its
    renewal, an answer whose scanner has gone); after `pipe` they go straight
    to the scanner's connection, whose flow control pauses the API's
    connection in turn.
    """

    __slots__ = ("_conn", "_error", "_kept", "_kept_size", "_sink", "_waiter", "chunked",
                 "complete", "connection", "headers", "length", "reason", "status",
                 "until_close")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.length: int | None = None  # Content-Length, when the API gave one
        self.chunked = False
        self.connection = b""  # the Connection header's values, for hop-by-hop names
        self.until_close = False  # neither a length nor chunked: the body ends at close
        self.complete = False
        self._error: UpstreamError | None = None
        self._kept: list[bytes] = []
        self._kept_size = 0
        self._sink: Downstream | None = None
        self._waiter: asyncio.Future[None] | None = None  # made only when someone waits

    def _body(self, data: bytes) -> None:
        if self._sink is not None:
            self._sink.write(data)
        else:
            self._kept.append(data)
            self._kept_size += len(data)
            if self._kept_size > BODY_HIGH:
                self._conn.reading(False)  # until `pipe`, or the read timeout

    def _end(self, error: UpstreamError | None) -> None:
        self.complete = error is None
        self._error = error
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def ended(self) -> bool:
        return self.complete or self._error is not None

    async def _wait(self) -> None:
        if not self.ended:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        if self._error is not None:
            raise self._error

    async def read(self) -> bytes:
        """The whole body (for an answer known to be small)."""
        await self._wait()
        return b"".join(self._kept)

    async def pipe(self, sink: Downstream) -> None:
        """Send the body to the scanner as it arrives; return when it is complete.
        Raises UpstreamError when the API broke it off."""
        for data in self._kept:
            sink.write(data)
        self._kept = []
        if self.ended:
            await self._wait()
            return
        self._sink = sink
        sink.on_writable = self._conn.reading
        self._conn.reading(sink.writable)  # also when kept pieces had paused it
        try:
            await self._wait()
        finally:
            self._sink = None
            sink.on_writable = None
            if not self.ended:
                self._conn.close()  # the scanner went away: stop reading the API

    def whole(self) -> bytes | None:
        """The body, when all of it has arrived (usual for small answers)."""
        return b"".join(self._kept) if self.complete else None

    def discard(self) -> None:
        """Not wanted (a 401 that will be retried): the connection is reused
        only if the answer was already complete."""
        if not self.ended:
            self._conn.close()


class Connection(asyncio.Protocol):
    """One kept-alive connection to the API, carrying one exchange at a time."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self.transport: asyncio.Transport | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self.answer: Answer | None = None
        self._head: asyncio.Future[Answer] | None = None
        self._head_bytes = 0
        self._read_size = 0
        self._for_head = False
        self._interim = False
        self._reusable = False
        self._sending = False  # a streamed request body is still going out
        self._paused = False  # not read while the scanner does not read
        self._drained: asyncio.Future[None] | None = None
        self._writable = True
        self.closed = False
        self.started = False  # bytes of the current answer have arrived
        self._activity = 0.0  # when bytes last moved in the current exchange
        self._timeout = 0.0

    # asyncio.Protocol

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.answer is None or self._parser is None:
            self.close()  # bytes nobody asked for: this connection cannot be trusted
            return
        self.started = True
        self._activity = self._pool.loop.time()
        self._read_size = len(data)
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            # HttpParserUpgrade (not an HttpParserError): a 101 nobody asked
            # for, as Upgrade is never forwarded.
            self._fail(UpstreamError(exc, started=True))
            return
        if self._head is not None:  # still waiting for the head's end: see Downstream
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._fail(UpstreamError(ValueError("answer head too large"), started=True))

    def eof_received(self) -> bool | None:
        answer = self.answer
        if answer is not None and answer.until_close and self._head is None:
            self._complete()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool._forget(self)
        answer = self.answer
        if answer is not None and answer.until_close and self._head is None:
            self._complete()
        else:
            self._fail(UpstreamError(exc or ConnectionResetError("closed by the API"),
                                     started=self.started))
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # llhttp's callbacks

    def on_message_begin(self) -> None:
        answer = self.answer
        assert answer is not None
        answer.headers = []
        answer.length = None
        answer.chunked = False
        answer.connection = b""

    def on_status(self, reason: bytes) -> None:
        assert self.answer is not None
        self.answer.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        answer = self.answer
        assert answer is not None
        if self._head is None:
            return  # a chunked body's trailer: dropped, never merged into the head
        answer.headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length":
            answer.length = int(value)
        elif lowered == b"transfer-encoding":
            if value.strip().lower() != b"chunked":  # gzip, say: llhttp would not decode it
                raise ValueError("a transfer coding other than chunked")  # a 502
            answer.chunked = True
        elif lowered == b"connection":
            answer.connection += b"," + value

    def on_headers_complete(self) -> None:
        answer, parser = self.answer, self._parser
        assert answer is not None and parser is not None
        if self._head_bytes + self._read_size > MAX_HEAD \
                and head_size(answer.reason, answer.headers) > MAX_HEAD:
            raise ValueError("answer head too large")  # a 502
        status = parser.get_status_code()
        if 100 <= status < 200:
            # 100 Continue and other interim answers: the real one follows.
            self._interim = True
            answer.reason = b""
            return
        answer.status = status
        self._reusable = parser.should_keep_alive()
        answer.until_close = (not answer.chunked and answer.length is None
                              and status not in (204, 304) and not self._for_head)
        head_waiter, self._head = self._head, None
        if head_waiter is not None and not head_waiter.done():
            head_waiter.set_result(answer)
        if self._for_head:
            # llhttp cannot be told that a HEAD's answer has no body: the
            # answer ends here, and the connection is not used again.
            self._reusable = False
            self._complete()

    def on_body(self, body: bytes) -> None:
        if self.answer is not None and self._parser is not None:
            self.answer._body(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if self._parser is not None and self.answer is not None and self._head is None:
            self._complete()

    # Exchanges

    async def exchange(self, request_head: bytes, body: bytes | Body | None,
                       chunked: bool, for_head: bool, timeout: float) -> Answer:
        """Send one request; return its answer once the head has arrived."""
        assert self.transport is not None
        loop = self._pool.loop
        self.answer = Answer(self)
        if self._parser is None:  # else the last exchange's, ready for the next answer
            self._parser = httptools.HttpResponseParser(self)
        head = self._head = loop.create_future()
        self._head_bytes = 0
        self._for_head = for_head
        self._interim = False
        self.started = False
        self._activity = loop.time()
        self._timeout = timeout
        self._pool._busy.add(self)
        if body is None or isinstance(body, bytes):
            self.transport.write(request_head + body if body else request_head)
        else:
            self.transport.write(request_head)
            self._sending = True
            try:
                await self._send_stream(body, chunked)
            except BaseException:
                # The scanner went away mid-body (or sent a broken one): nobody
                # will wait for this answer, and the API has half a request.
                head.cancel()
                self.close()
                raise
            finally:
                self._sending = False
        return await head

    async def _send_stream(self, body: Body, chunked: bool) -> None:
        assert self.transport is not None
        while True:
            data = await body.read()
            if self.closed:
                return  # the head future carries the failure
            if not data:
                if chunked:
                    self.transport.write(b"0\r\n\r\n")
                return
            self.transport.write(b"%x\r\n%b\r\n" % (len(data), data) if chunked else data)
            self._activity = self._pool.loop.time()
            if not self._writable:
                self._drained = self._pool.loop.create_future()
                await self._drained

    def reading(self, on: bool) -> None:
        """Flow control from the scanner's side: stop reading the API while
        the scanner does not read."""
        if self.transport is None or self.closed or self._paused != on:
            return
        self._paused = not on
        if on:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()

    def check_timeout(self, now: float) -> None:
        """Fail the exchange when nothing has moved for its timeout (Pool's sweep)."""
        if self.answer is not None and now - self._activity >= self._timeout:
            self._fail(UpstreamError(TimeoutError(), started=self.started))

    def _complete(self) -> None:
        answer = self.answer
        if answer is None:
            return
        self.answer = None
        self._pool._busy.discard(self)
        answer._end(None)
        # An answer that came before the whole request body went out (an API
        # refusing an upload early) leaves the connection in the middle of
        # that body: never reused, or the next request would be sent into it.
        if self._reusable and not self.closed and not self._sending:
            if self._paused:
                # The last piece came in the read that paused it: the scanner
                # that paused it will no longer resume it.
                self.reading(True)
            self._pool._release(self)
        else:
            self.close()

    def _fail(self, error: UpstreamError) -> None:
        answer, head_waiter = self.answer, self._head
        self.answer, self._head, self._parser = None, None, None
        self._pool._busy.discard(self)
        if head_waiter is not None and not head_waiter.done():
            head_waiter.set_exception(error)
        if answer is not None and not answer.ended:
            answer._end(error)
        self.close()

    def close(self) -> None:
        self._reusable = False
        if self.transport is not None and not self.closed:
            self.transport.close()
            self.closed = True
            self._pool._forget(self)


@dataclass(frozen=True)
class Route:
    """Where a target's requests go: the API's address, its TLS, and any
    HTTP proxy on the way (HTTP(S)_PROXY)."""

    scheme: str
    host: str  # to connect to (a pinned loopback address, or the API's name)
    port: int
    server_name: str  # for TLS: the API's own name
    ssl: ssl.SSLContext | None
    proxy: str | None  # http://[user:pass@]host:port


class Pool:
    """Kept-alive connections to one API, opened as needed and reused."""

    def __init__(self, route: Route, connect_timeout: float) -> None:
        self.route = route
        self.loop = asyncio.get_running_loop()
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()
        self._busy: set[Connection] = set()
        self._timeout = connect_timeout
        # One timer checks every exchange's read timeout, a few times per
        # timeout (at most 20 times a second, however short the timeout).
        self._every = max(0.05, min(1.0, connect_timeout / 8))
        self._sweeper = self.loop.call_later(self._every, self._sweep)
        # Through an HTTP proxy to a plain-http API, requests carry the absolute URL.
        self.absolute_form = route.proxy is not None and route.ssl is None

    async def send(self, request_head: Callable[[bool], bytes], body: bytes | Body | None,
                   chunked: bool, for_head: bool, timeout: float,
                   idempotent: bool = True) -> Answer:
        """One exchange on an idle connection, or on a new one.  A kept
        connection the API closed meanwhile is retried once on a new one,
        when nothing of the answer had arrived, the body can be sent again and
        the method is idempotent (RFC 9112 9.3.1: a proxy never retries
        another on its own, as the API may have acted on it)."""
        while self._idle:
            conn = self._idle.pop()
            if conn.closed:
                continue
            try:
                return await conn.exchange(request_head(self.absolute_form), body, chunked,
                                           for_head, timeout)
            except asyncio.CancelledError:
                conn.close()
                raise
            except UpstreamError as exc:
                replayable = idempotent and (body is None or isinstance(body, bytes))
                if exc.started or not replayable or not isinstance(exc.cause, OSError) \
                        or isinstance(exc.cause, TimeoutError):
                    raise
        conn = await self._open()
        try:
            return await conn.exchange(request_head(self.absolute_form), body, chunked,
                                       for_head, timeout)
        except asyncio.CancelledError:
            conn.close()  # the scanner went away: its answer is not wanted
            raise

    async def _open(self) -> Connection:
        route = self.route
        try:
            if route.proxy is None:
                _, conn = await asyncio.wait_for(self.loop.create_connection(
                    lambda: Connection(self), route.host, route.port, ssl=route.ssl,
                    server_hostname=route.server_name if route.ssl else None,
                    ssl_handshake_timeout=self._timeout if route.ssl else None),
                    self._timeout)
            else:
                conn = await asyncio.wait_for(self._through_proxy(), self._timeout)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            raise UpstreamError(exc) from None
        self._all.add(conn)
        return conn

    async def _through_proxy(self) -> Connection:
        route = self.route
        assert route.proxy is not None
        proxy = urlsplit(route.proxy)
        transport, conn = await self.loop.create_connection(
            lambda: Connection(self), proxy.hostname or "", proxy.port or 80)
        if route.ssl is None:
            return conn
        try:
            return await self._tunnel(transport)
        except BaseException:  # the timeout's cancellation included
            transport.close()
            raise

    async def _tunnel(self, transport: asyncio.Transport) -> Connection:
        """https through the proxy: a CONNECT tunnel, then TLS inside it."""
        route = self.route
        assert route.proxy is not None and route.ssl is not None
        tunnel = _Tunnel(self.loop)
        transport.set_protocol(tunnel)
        authority = f"{route.server_name}:{route.port}".encode("idna")
        lines = [b"CONNECT %b HTTP/1.1\r\nHost: %b\r\n" % (authority, authority)]
        auth = proxy_authorization(route.proxy)
        if auth:
            lines.append(b"Proxy-Authorization: %b\r\n" % auth)
        transport.write(b"".join(lines) + b"\r\n")
        status = await tunnel.status
        if not 200 <= status < 300:
            raise ConnectionRefusedError(f"the HTTP proxy answered CONNECT with {status}")
        conn = Connection(self)
        tls = await self.loop.start_tls(transport, conn, route.ssl,
                                        server_hostname=route.server_name,
                                        ssl_handshake_timeout=self._timeout)
        assert tls is not None
        conn.connection_made(tls)
        return conn

    def _sweep(self) -> None:
        now = self.loop.time()
        for conn in list(self._busy):
            conn.check_timeout(now)
        self._sweeper = self.loop.call_later(self._every, self._sweep)

    def _release(self, conn: Connection) -> None:
        if len(self._idle) < POOL_IDLE:
            self._idle.append(conn)
        else:
            conn.close()

    def _forget(self, conn: Connection) -> None:
        self._all.discard(conn)

    def close(self) -> None:
        self._sweeper.cancel()
        for conn in list(self._all):
            conn.close()
        self._idle.clear()


class _Tunnel(asyncio.Protocol):
    """Reads an HTTP proxy's answer to CONNECT (llhttp parses it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.status: asyncio.Future[int] = loop.create_future()
        self._parser = httptools.HttpResponseParser(self)

    def data_received(self, data: bytes) -> None:
        if self.status.done():
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if not self.status.done():  # a 101 has set it already: not a 2xx
                self.status.set_exception(UpstreamError(exc))

    def on_headers_complete(self) -> None:
        if not self.status.done():
            self.status.set_result(self._parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.status.done():
            self.status.set_exception(exc or ConnectionResetError("closed by the HTTP proxy"))


def proxy_authorization(proxy: str) -> bytes | None:
    """Basic credentials for an HTTP proxy given as http://user:pass@host:port."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    import base64

    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return b"Basic " + base64.b64encode(pair.encode("utf-8"))
