"""DynamoDB's JSON protocol on the event loop, for the calls the proxy makes on every request.

Through a worker thread, each call costs the loop a hand-over both ways (the worker's wake-up, a
GIL hand-over, the loop's wake-up after it): in the proxy, 0.5-0.7 ms of CPU a call on top of the
call itself (docs/profiles/README.md), more than the rest of a tiny request. This client sends the
same bytes as store/dynamodb_http.py on the loop's own transports and answers as it does: it shares
its signer, its reading of an answer (`read_answer`, `intact`), its TLS settings and its retry rule -
at most two attempts, the second on a new connection after a transport failure, a timeout or a damaged
answer, or after up to 25 ms after a 500/502/503/504, a 429 or a retryable code. A transaction's
ClientRequestToken is the same on both attempts. Answers are parsed by httptools, as the upstream's are.

A kept-alive connection is reused only if nothing arrived on it since its answer (the socket is asked,
as the blocking client asks it), so a connection DynamoDB dropped while the loop was busy or frozen
between invocations does not use up the retry; nor is one that brought a second answer nobody asked
for. At most `max_connections` calls run at once (the blocking client's worker threads were as many).
Connections belong to the loop that opened them; a client used from another loop (each test's own)
starts a new pool there.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import time
import uuid
from collections import deque
from typing import Any

import httptools
import orjson
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from codegateway.store.dynamodb_http import (
    ATTEMPTS,
    IDLE_MAX_S,
    RETRY_PAUSE_MAX_S,
    DynamoDBHttpClient,
    RetryableAnswer,
    intact,
    read_answer,
    readable_now,
)

# The client methods the store's operations name (store/steps.py), as DynamoDB's operations.
OPERATIONS = {
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "query": "Query",
    "transact_write_items": "TransactWriteItems",
}


class _Connection(asyncio.Protocol):
    """One kept-alive connection carrying one call at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.used_at = 0.0
        self._answer: asyncio.Future[tuple[int, dict[bytes, bytes], bytes]] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self.keep_alive = False

    def exchange(self, request: bytes) -> asyncio.Future[tuple[int, dict[bytes, bytes], bytes]]:
        """Write a whole call; the future is its status, headers (lower-case names) and body."""
        assert self.transport is not None
        if self.closed or self.transport.is_closing():
            # Closed between its connect and this write (the loop ran the close first): nothing was
            # sent, and under uvloop the write would raise RuntimeError rather than fail the call.
            raise ConnectionResetError("closed before the request was written")
        self._parser = httptools.HttpResponseParser(self)
        self._headers, self._body, self.keep_alive = {}, [], False
        self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._answer

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def fit(self, now: float) -> bool:
        """Fit for another call: open, idle under IDLE_MAX_S, and nothing arrived since its answer (the
        loop may not yet have read the server's close: the socket is asked, as the blocking client does)."""
        if self.closed or self.transport is None or self.transport.is_closing() or now - self.used_at >= IDLE_MAX_S:
            return False
        sock = self.transport.get_extra_info("socket")
        return sock is not None and not readable_now(sock)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # bytes no call asked for: not fit for another call
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail()
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail()

    # httptools' callbacks
    def on_message_begin(self) -> None:
        if self._answer is not None and self._answer.done():
            # A second answer in the same read as the first: nobody asked for it, so the connection
            # is not fit for another call (and the first answer's headers stay its own).
            self.keep_alive = False
            self._headers, self._body = {}, []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._answer is not None and self._answer.done():
            return  # the unasked second answer: see on_message_begin
        self.keep_alive = self._parser.should_keep_alive()
        if self._answer is not None and not self._answer.done():
            self._answer.set_result((self._parser.get_status_code(), self._headers, b"".join(self._body)))

    def _fail(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(ConnectionResetError("closed before the whole answer"))


class DynamoDBLoopClient:
    def __init__(self, blocking: DynamoDBHttpClient, *, max_connections: int = 64) -> None:
        self._blocking = blocking
        self.endpoint_url = blocking.endpoint_url
        self._max_connections = max_connections
        self._idle: deque[_Connection] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One operation (named as the client method: "transact_write_items"), tried at most ATTEMPTS
        times; DynamoDB's answer as a dict, or botocore's ClientError / transport error."""
        operation = OPERATIONS[method]
        if operation == "TransactWriteItems":
            params = {"ClientRequestToken": str(uuid.uuid4()), **params}
        body = orjson.dumps(params)
        slots = self._slots_on_this_loop()
        fresh = False
        for attempt in range(ATTEMPTS):
            try:
                # At most max_connections calls at once (as many as the worker threads the blocking
                # client had): a burst queues here instead of opening a connection (a TLS handshake
                # on the loop) per request.
                async with slots:
                    answer = await self._send(operation, body, fresh=fresh)
            except RetryableAnswer as retryable:
                if attempt == ATTEMPTS - 1:
                    raise retryable.final from retryable.__cause__
                fresh = retryable.transport
                if not fresh:
                    await asyncio.sleep(random.uniform(0.0, RETRY_PAUSE_MAX_S))
                continue
            answer.setdefault("ResponseMetadata", {})["RetryAttempts"] = attempt
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _slots_on_this_loop(self) -> asyncio.Semaphore:
        """The call slots (and the idle pool) of the running loop: a loop's transports and semaphore
        are its own, so a client used from a new loop (each test's own) starts both afresh."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._slots is None:
            while self._idle:
                with contextlib.suppress(RuntimeError):  # the old loop may be closed already
                    self._idle.pop().close()
            self._loop = loop
            self._slots = asyncio.Semaphore(self._max_connections)
        return self._slots

    async def _send(self, operation: str, body: bytes, *, fresh: bool) -> dict[str, Any]:
        headers = self._blocking.signed_headers(operation, body)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = f"POST / HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\nAccept-Encoding: identity\r\n\r\n"
        timeout_s = self._blocking.timeout_s
        connection = await self._connect(timeout_s) if fresh else await self._take_idle(timeout_s)
        try:
            async with asyncio.timeout(timeout_s):
                status, answer_headers, data = await connection.exchange(request.encode() + body)
        except TimeoutError as error:
            connection.close()
            raise RetryableAnswer(ReadTimeoutError(endpoint_url=self.endpoint_url, error=error), True) from error
        except OSError as error:
            # Closed or reset before a whole answer came back: the write may or may not have applied.
            connection.close()
            raise RetryableAnswer(ConnectionClosedError(endpoint_url=self.endpoint_url), True) from error
        except BaseException:
            connection.close()
            raise
        crc = answer_headers.get(b"x-amz-crc32")
        if not intact(None if crc is None else crc.decode("latin-1"), data):
            connection.close()  # never used, and neither is the connection that brought it
            raise RetryableAnswer(ConnectionClosedError(endpoint_url=self.endpoint_url), True)
        if connection.keep_alive:
            self._keep(connection)
        else:
            connection.close()
        request_id = answer_headers.get(b"x-amzn-requestid", b"").decode("latin-1")
        return read_answer(operation, status, request_id, data, self.endpoint_url)

    async def _take_idle(self, timeout_s: float) -> _Connection:
        """The most recently used kept-alive connection still open, else a new one."""
        while self._idle:
            connection = self._idle.pop()
            if connection.fit(time.monotonic()):
                return connection
            connection.close()
        return await self._connect(timeout_s)

    async def _connect(self, timeout_s: float) -> _Connection:
        blocking = self._blocking
        tls: ssl.SSLContext | None = blocking.tls_settings() if blocking.tls else None
        try:
            async with asyncio.timeout(timeout_s):
                _, connection = await asyncio.get_running_loop().create_connection(
                    _Connection, blocking.host, blocking.port, ssl=tls, server_hostname=blocking.host if tls else None
                )
        except TimeoutError as error:
            raise RetryableAnswer(ReadTimeoutError(endpoint_url=self.endpoint_url, error=error), True) from error
        except (OSError, ssl.SSLError) as error:
            raise RetryableAnswer(EndpointConnectionError(endpoint_url=self.endpoint_url, error=error), True) from error
        return connection

    def _keep(self, connection: _Connection) -> None:
        if len(self._idle) < self._max_connections:
            connection.used_at = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
