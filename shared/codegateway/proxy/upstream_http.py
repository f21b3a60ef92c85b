"""HTTP/1.1 to the upstream on the event loop's own transports, answers parsed by httptools (llhttp,
the C parser uvicorn already serves the gateway's clients with). upstream.py drives it.

A pooled connection sends a request in one synchronous write - head and body together, one segment
and one wake-up of the upstream - so a caller that starts `Upstream.open` eagerly has the request on
the wire before it next yields to the loop. httpcore took about 0.3 ms (lock checkpoints that
yield, h11's header checks, two writes) before the first byte went out; docs/profiles/README.md.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

import httptools

# Above this many unread bytes the socket is not read on (the relay stopped taking chunks because
# its client is slow): backpressure reaches the upstream instead of filling memory.
READ_AHEAD_BYTES = 256 * 1024
# Statuses whose answer has no body whatever its headers say (RFC 9110 6.4.1); 1xx are skipped.
_NO_BODY_STATUSES = frozenset({204, 304})


class UpstreamNetworkError(Exception):
    """The network or the upstream's HTTP failed (the names say where, in logs and records)."""


class ConnectError(UpstreamNetworkError):
    pass


class ConnectTimeout(UpstreamNetworkError):
    pass


class ConnectionBroke(UpstreamNetworkError):
    """Closed or reset before the answer was whole, or the answer was not HTTP/1.1."""


Headers = list[tuple[bytes, bytes]]


def request_bytes(method: bytes, target: bytes, headers: Headers, body: bytes) -> bytes:
    for name, value in headers:
        # The client's headers were parsed by uvicorn and cannot hold these; the gateway's own (the
        # upstream key from a secret) could, and would otherwise split the request.
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise ValueError(f"header {name.decode(errors='replace')!r} holds a line break")
    lines = b"".join([name + b": " + value + b"\r\n" for name, value in headers])
    return b"%b %b HTTP/1.1\r\n%b\r\n%b" % (method, target, lines, body)


class Connection(asyncio.Protocol):
    """One kept-alive connection: one request at a time, its answer read as the parser hands it over."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._head: asyncio.Future[tuple[int, Headers]] | None = None
        self._headers: Headers = []
        self._body: deque[bytes] = deque()
        self._buffered = 0
        self._readable: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._framed = False  # the answer says where it ends (content-length or chunked)
        self._keep_alive = False
        self.complete = False
        self.closed = False
        self.error: UpstreamNetworkError | None = None
        self.idle_since = 0.0

    # --- the request side -------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Write a whole request; its answer is then read with `head` and `body`."""
        transport = self._transport
        if transport is None or not self.open:
            raise ConnectionBroke("connection closed before the request was written")
        self._parser = httptools.HttpResponseParser(self)
        self._head = asyncio.get_running_loop().create_future()
        self._headers = []
        self._framed = self._keep_alive = self.complete = False
        transport.write(data)

    async def head(self) -> tuple[int, Headers]:
        """The status and headers, once they arrived."""
        assert self._head is not None
        return await self._head

    async def body(self) -> AsyncIterator[bytes]:
        """The body as it arrives (chunked framing removed, the bytes of each read joined); ends when
        the answer is whole."""
        while True:
            if self._body:
                yield self._take()
                continue
            if self.complete:
                return
            if self.error is not None:
                raise self.error
            if self.closed:
                raise ConnectionBroke("connection closed mid-answer")
            self._readable = asyncio.get_running_loop().create_future()
            await self._readable

    @property
    def open(self) -> bool:
        """Neither side has closed it (or begun to)."""
        return not self.closed and self._transport is not None and not self._transport.is_closing()

    @property
    def reusable(self) -> bool:
        """Whole, read to the end, all of the request sent, and neither side said it would close."""
        return (
            self.complete
            and self._keep_alive
            and not self._body
            and self.open
            and self._transport is not None
            and self._transport.get_write_buffer_size() == 0
        )

    def close(self) -> None:
        """Close; an exchange still under way (refused, timed out, cut) is aborted: what of the request
        is still queued is dropped, not sent, and a peer that stopped reading cannot hold the socket."""
        self.closed = True
        if self._transport is not None:
            if self._head is None or self.complete:
                self._transport.close()
            else:
                self._transport.abort()

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._head is None or self.complete:
            self.close()  # bytes nobody asked for (an idle connection): not fit for another request
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # 101 Switching Protocols: never asked for (no request sends Upgrade), never relayed.
            self._fail(ConnectionBroke("the upstream switched protocols"))
            self.close()
        except httptools.HttpParserError as error:
            self._fail(ConnectionBroke(f"the upstream's answer is not HTTP/1.1 ({error})"))
            self.close()

    def eof_received(self) -> bool:
        self._ended(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    # --- httptools' callbacks ----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.complete:
            return  # a second answer nobody asked for: see on_headers_complete
        self._headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length" or (lower == b"transfer-encoding" and b"chunked" in value.lower()):
            self._framed = True

    def on_headers_complete(self) -> None:
        if self.complete:  # bytes after the answer ended: never relayed, and the connection is not reused
            self._keep_alive = False
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (103 Early Hints): the real one follows
            self._headers = []
            return
        self._keep_alive = self._parser.should_keep_alive()
        if status in _NO_BODY_STATUSES:
            self._framed = True
        if self._head is not None and not self._head.done():
            self._head.set_result((status, self._headers))

    def on_body(self, body: bytes) -> None:
        if not body or self.complete:
            return
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered > READ_AHEAD_BYTES and not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.complete:
            self._keep_alive = False
        elif self._head is not None and self._head.done():
            self.complete = True
            self._wake()

    # --- internals -----------------------------------------------------------------------------

    def _take(self) -> bytes:
        """Every body byte parsed since the last take, as one chunk: what arrived together is relayed
        in one write (a burst of SSE events is one syscall and one ASGI message, not one each)."""
        body = self._body
        chunk = body.popleft() if len(body) == 1 else b"".join(body)
        body.clear()
        self._buffered -= len(chunk)
        if self._reading_paused and self._buffered <= READ_AHEAD_BYTES // 2 and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()
        return chunk

    def _ended(self, exc: Exception | None) -> None:
        """The upstream closed (or reset) the connection."""
        was_closed, self.closed = self.closed, True
        if self._head is None or self.complete or was_closed:
            self._wake()
            return
        if not self._head.done():
            self._fail(ConnectionBroke(f"connection closed before the answer ({exc or 'EOF'})"))
        elif not self._framed and exc is None:
            self.complete = True  # an answer without a length ends where the connection does
            self._keep_alive = False
        else:
            self._fail(ConnectionBroke(f"connection closed mid-answer ({exc or 'EOF'})"))
        self._wake()

    def _fail(self, error: UpstreamNetworkError) -> None:
        self.error = self.error or error
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
            self._head.exception()  # retrieved here: a caller that already left must not log it
        self._wake()

    def _wake(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)


class ConnectionPool:
    """Connections to one origin: idle ones reused newest first, each for at most `idle_expiry_s`
    of idleness (the upstream's own limit is longer), at most `max_idle` kept."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        max_idle: int = 200,
        idle_expiry_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._idle_expiry_s = idle_expiry_s
        self._clock = clock
        self._idle: list[Connection] = []  # oldest first
        self._closed = False

    def idle_connection(self) -> Connection | None:
        """An idle connection still fit for a request, or None (then `connect`)."""
        now = self._clock()
        while self._idle:
            connection = self._idle.pop()
            if self._fresh(connection, now):
                return connection
            connection.close()
        return None

    async def connect(self, timeout_s: float) -> Connection:
        loop = asyncio.get_running_loop()
        tls = self._ssl_context
        try:
            async with asyncio.timeout(timeout_s):
                _, connection = await loop.create_connection(
                    Connection, self._host, self._port, ssl=tls, server_hostname=self._host if tls else None
                )
        except TimeoutError as error:
            raise ConnectTimeout(f"connecting to {self._host}:{self._port} took over {timeout_s:g} s") from error
        except (OSError, ssl.SSLError) as error:
            raise ConnectError(str(error) or type(error).__name__) from error
        return connection

    def release(self, connection: Connection) -> None:
        """Done with its answer (once): kept for the next request if it is fit for one, else closed."""
        now = self._clock()
        # The oldest idle ones first: expired or closed by the upstream, they go now, not when reached.
        while self._idle and not self._fresh(self._idle[0], now):
            self._idle.pop(0).close()
        if not self._closed and connection.reusable and len(self._idle) < self._max_idle:
            connection.idle_since = now
            self._idle.append(connection)
        else:
            connection.close()

    def _fresh(self, connection: Connection, now: float) -> bool:
        return connection.open and now - connection.idle_since < self._idle_expiry_s

    def close(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()
