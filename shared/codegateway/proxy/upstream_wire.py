# ruff: noqa: ASYNC109 - httpcore's network interface passes timeouts as parameters
"""The upstream's sockets on the event loop's own transports: httpcore's network backend (the
interface of httpcore.AsyncNetworkBackend, duck-typed; upstream.py plugs it in).

httpcore's default backend goes through anyio, which per read and per write opens a cancel scope
and yields to the loop once more; over a request that was about a tenth of the gateway's CPU. Here
a read takes what the protocol already buffered, and a write goes straight to the transport.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any

# Above this many unread bytes the socket is not read on (the relay stopped taking chunks because
# its client is slow): backpressure reaches the upstream instead of filling memory.
_READ_AHEAD_BYTES = 256 * 1024


class WireError(Exception):
    """A network failure (the names are httpcore's, so logs read the same)."""


class ConnectError(WireError):
    pass


class ConnectTimeout(WireError):
    pass


class ReadError(WireError):
    pass


class WriteError(WireError):
    pass


class WriteTimeout(WireError):
    pass


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _READ_AHEAD_BYTES and self.transport is not None and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def _wake_reader(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            self.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self.buffered -= len(chunk)
        if self._reading_paused and self.buffered <= _READ_AHEAD_BYTES // 2 and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return chunk

    async def until_readable(self) -> None:
        self._readable = asyncio.get_running_loop().create_future()
        await self._readable

    @property
    def write_paused(self) -> bool:
        return self._writable is not None and not self._writable.done()

    async def until_writable(self) -> None:
        if self._writable is not None:
            await self._writable


class WireStream:
    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.chunks:
            if protocol.eof:
                return b""
            try:
                # No timer when there is no limit (the relay bounds the upstream's reads itself).
                if timeout is None:
                    await protocol.until_readable()
                else:
                    async with asyncio.timeout(timeout):
                        await protocol.until_readable()
            except TimeoutError as error:
                raise ReadError("read timed out") from error
            if not protocol.chunks:
                if protocol.error is not None:
                    raise ReadError(str(protocol.error)) from protocol.error
                return b""
        return protocol.take(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        transport = protocol.transport
        if transport is None or transport.is_closing():
            raise WriteError("connection closed") from protocol.error
        try:
            transport.write(buffer)
        except (OSError, RuntimeError) as error:
            raise WriteError(str(error)) from error
        if protocol.write_paused:  # the kernel's send buffer is full: wait for it to drain
            try:
                async with asyncio.timeout(timeout):
                    await protocol.until_writable()
            except TimeoutError as error:
                raise WriteTimeout("write timed out") from error
        if protocol.error is not None:
            raise WriteError(str(protocol.error)) from protocol.error

    async def aclose(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> WireStream:
        transport = self._protocol.transport
        assert transport is not None
        try:
            async with asyncio.timeout(timeout):
                tls = await asyncio.get_running_loop().start_tls(
                    transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as error:
            transport.close()
            raise ConnectTimeout("TLS handshake timed out") from error
        except (OSError, ssl.SSLError) as error:
            transport.close()
            raise ConnectError(str(error)) from error
        assert tls is not None
        self._protocol.transport = tls
        return self

    def get_extra_info(self, info: str) -> Any:
        transport = self._protocol.transport
        if info == "is_readable":
            # An idle pooled connection the server closed (or wrote to): not fit for reuse.
            return transport is None or transport.is_closing() or bool(self._protocol.chunks) or self._protocol.eof
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class WireBackend:
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> WireStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                _transport, protocol = await loop.create_connection(_Protocol, host, port, local_addr=local)
        except TimeoutError as error:
            raise ConnectTimeout(f"connect to {host}:{port} timed out") from error
        except OSError as error:
            raise ConnectError(str(error)) from error
        return WireStream(protocol)  # asyncio and uvloop set TCP_NODELAY on their own

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: object = None) -> Any:
        raise ConnectError("unix sockets are not used for the upstream")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
