"""The gateway's own HTTP/1.1 client (proxy/upstream_http.py through Upstream) against a loopback
server that answers with scripted raw bytes: every way an answer can be framed, cut or malformed,
connection reuse, and backpressure on a body nobody reads."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
import uvloop

from codegateway.errors import UpstreamConnectFailed
from codegateway.proxy import upstream_http
from codegateway.proxy.upstream import Upstream, UpstreamResponse
from codegateway.settings import Settings

SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


@dataclass
class Scripted:
    """Answers the n-th request with answers[n] (raw bytes; None: close without a byte); records
    each request's raw bytes and which connection (1, 2, ...) it came on."""

    answers: list[bytes | None]
    close_after_answer: bool = False
    requests: list[bytes] = field(default_factory=list)
    connection_of_request: list[int] = field(default_factory=list)
    connections: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                self.connection_of_request.append(connection)
                answer = self.answers[len(self.requests) - 1]
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def _with_upstream(
    scripted: Scripted, scenario: Callable[[Upstream], Awaitable[None]], host: str = "127.0.0.1"
) -> None:
    server = await asyncio.start_server(scripted.handle, host, 0)
    port = server.sockets[0].getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    settings = Settings(upstream_url=f"http://{url_host}:{port}", connect_timeout_s=5.0, retry_backoff_max_s=0.01)
    upstream = Upstream(settings, lambda: "sk-up")
    try:
        await scenario(upstream)
    finally:
        await upstream.aclose()
        for writer in scripted.writers:
            writer.close()
        server.close()


async def _open(upstream: Upstream, body: bytes = b'{"model":"m"}') -> UpstreamResponse:
    return await upstream.open("POST", "/v1/messages", b"", [(b"x-turn", b"1")], body, time.monotonic() + 10)


async def _body(response: UpstreamResponse) -> bytes:
    try:
        return b"".join([chunk async for chunk in response.chunks()])
    finally:
        await response.aclose()


_RUNNERS: dict[str, Callable[[Awaitable[None]], None]] = {"asyncio": asyncio.run, "uvloop": uvloop.run}  # type: ignore[dict-item]
_runner = ["asyncio"]


@pytest.fixture(autouse=True, params=sorted(_RUNNERS))
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test on asyncio's own loop and on uvloop's (what the gateway runs on)."""
    _runner[0] = request.param
    yield
    _runner[0] = "asyncio"


def _run(scripted: Scripted, scenario: Callable[[Upstream], Awaitable[None]], host: str = "127.0.0.1") -> None:
    _RUNNERS[_runner[0]](_with_upstream(scripted, scenario, host))


def _chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%b\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def test_a_chunked_stream_arrives_unframed_and_its_connection_serves_the_next_request() -> None:
    events = [b"event: message_start\ndata: {}\n\n", b"event: message_stop\ndata: {}\n\n"]
    scripted = Scripted([SSE_HEAD + _chunked(*events)] * 2)

    async def scenario(upstream: Upstream) -> None:
        for _ in range(2):
            response = await _open(upstream)
            assert response.status == 200 and response.content_type == "text/event-stream"
            assert await _body(response) == b"".join(events)

    _run(scripted, scenario)
    assert scripted.connection_of_request == [1, 1]
    head, _, body = scripted.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/messages HTTP/1.1\r\n")
    assert b"\r\nx-api-key: sk-up" in head and b"\r\ncontent-length: 13" in head
    assert body == b'{"model":"m"}'


def test_a_content_length_body_is_read_to_its_length() -> None:
    scripted = Scripted([b'HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\n\r\n{"a":"bcd"}'] * 2)

    async def scenario(upstream: Upstream) -> None:
        for _ in range(2):
            response = await _open(upstream)
            assert (response.status, await _body(response)) == (400, b'{"a":"bcd"}')

    _run(scripted, scenario)
    assert scripted.connection_of_request == [1, 1]


def test_an_answer_without_a_length_ends_where_the_connection_does_and_is_not_reused() -> None:
    scripted = Scripted([b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}"] * 2, close_after_answer=True)

    async def scenario(upstream: Upstream) -> None:
        for _ in range(2):
            assert await _body(await _open(upstream)) == b"{}"

    _run(scripted, scenario)
    assert scripted.connection_of_request == [1, 2]


def test_connection_close_from_the_upstream_means_a_new_connection_next_time() -> None:
    answer = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}"
    scripted = Scripted([answer] * 2)

    async def scenario(upstream: Upstream) -> None:
        for _ in range(2):
            assert await _body(await _open(upstream)) == b"{}"

    _run(scripted, scenario)
    assert scripted.connection_of_request == [1, 2]


def test_an_interim_103_answer_is_skipped_for_the_real_one() -> None:
    scripted = Scripted(
        [b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    )

    async def scenario(upstream: Upstream) -> None:
        response = await _open(upstream)
        assert (response.status, await _body(response)) == (200, b"{}")
        assert all(name != b"link" for name, _ in response.headers)

    _run(scripted, scenario)


def test_a_stream_cut_mid_answer_fails_the_read_and_is_not_retried() -> None:
    scripted = Scripted([SSE_HEAD + b"20\r\nevent: message_start\n", b"unused"], close_after_answer=True)

    async def scenario(upstream: Upstream) -> None:
        response = await _open(upstream)
        with pytest.raises(upstream_http.ConnectionBroke):
            await _body(response)

    _run(scripted, scenario)
    assert len(scripted.requests) == 1


def test_a_connection_closed_before_any_answer_is_retried_once_on_a_new_connection() -> None:
    scripted = Scripted([None, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"])

    async def scenario(upstream: Upstream) -> None:
        response = await _open(upstream)
        assert (response.attempts, await _body(response)) == (2, b"{}")

    _run(scripted, scenario)
    assert scripted.connection_of_request == [1, 2]


def test_an_answer_that_is_not_http_is_a_transport_failure_after_one_retry() -> None:
    scripted = Scripted([b"SSH-2.0-OpenSSH_9.6\r\n"] * 2)

    async def scenario(upstream: Upstream) -> None:
        with pytest.raises(UpstreamConnectFailed, match="ConnectionBroke"):
            await _open(upstream)

    _run(scripted, scenario)
    assert len(scripted.requests) == 2


def test_an_answer_switching_protocols_is_a_transport_failure_never_relayed(caplog: pytest.LogCaptureFixture) -> None:
    switching = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nframes"
    scripted = Scripted([switching] * 2)

    async def scenario(upstream: Upstream) -> None:
        with pytest.raises(UpstreamConnectFailed, match="ConnectionBroke"):
            await asyncio.wait_for(_open(upstream), 5)

    _run(scripted, scenario)
    assert len(scripted.requests) == 2
    # Handled as a broken answer, not as the event loop's "protocol.data_received() failed" traceback.
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_an_upstream_at_an_ipv6_literal_is_sent_a_bracketed_host_header() -> None:
    scripted = Scripted([b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"])

    async def scenario(upstream: Upstream) -> None:
        assert await _body(await _open(upstream)) == b"{}"

    _run(scripted, scenario, host="::1")
    port = scripted.writers[0].get_extra_info("sockname")[1]
    assert b"\r\nhost: [::1]:%d\r\n" % port in scripted.requests[0]


def test_an_idle_connection_the_upstream_closed_is_not_used_again() -> None:
    scripted = Scripted([b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"] * 2)

    async def scenario(upstream: Upstream) -> None:
        assert await _body(await _open(upstream)) == b"{}"
        scripted.writers[0].close()  # the upstream's idle timeout
        await asyncio.sleep(0.1)
        response = await _open(upstream)
        assert (response.attempts, await _body(response)) == (1, b"{}")

    _run(scripted, scenario)
    assert scripted.connection_of_request == [1, 2]


def test_an_unread_body_stops_being_read_from_the_socket() -> None:
    size = 96 * 1024 * 1024  # far more than the kernel's socket buffers hold
    scripted = Scripted([b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size + b"x" * size])

    async def scenario(upstream: Upstream) -> None:
        response = await _open(upstream)
        await asyncio.sleep(0.5)  # nobody reads: the upstream must be held back, not drained into memory
        assert scripted.writers[0].transport.get_write_buffer_size() > size // 2
        assert len(await _body(response)) == size  # and it all arrives once read

    _run(scripted, scenario)


def test_a_header_value_with_a_line_break_is_never_sent() -> None:
    with pytest.raises(ValueError, match="line break"):
        upstream_http.request_bytes(b"POST", b"/", [(b"x-api-key", b"sk-up\r\nx-evil: 1")], b"")


def test_bytes_after_the_answer_are_never_relayed_and_the_connection_is_not_reused() -> None:
    extra = b'HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{"x":"y"}'
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    scripted = Scripted([answer + extra, answer])

    async def scenario(upstream: Upstream) -> None:
        for _ in range(2):
            assert await _body(await _open(upstream)) == b"{}"

    _run(scripted, scenario)
    assert scripted.connection_of_request == [1, 2]


def test_a_request_given_up_on_is_dropped_not_sent_on_in_full() -> None:
    """A refused speculative send (or a timed-out one) must not finish going up after it was closed:
    the bytes still queued are discarded and the connection reset."""
    received: list[int] = []
    done = asyncio.Event()

    async def scenario() -> None:
        async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(0.3)  # reads nothing while the client gives up
            total = 0
            try:
                while chunk := await reader.read(1 << 20):
                    total += len(chunk)
            except ConnectionError:
                pass
            received.append(total)
            done.set()
            writer.close()

        server = await asyncio.start_server(slow_reader, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        upstream = Upstream(Settings(upstream_url=f"http://127.0.0.1:{port}", connect_timeout_s=5.0), lambda: "sk-up")
        opening = asyncio.create_task(_open(upstream, body=b"x" * (64 * 1024 * 1024)))
        await asyncio.sleep(0.1)
        opening.cancel()
        await asyncio.gather(opening, return_exceptions=True)
        await asyncio.wait_for(done.wait(), 5)
        await upstream.aclose()
        server.close()

    _RUNNERS[_runner[0]](scenario())
    assert received and received[0] < 32 * 1024 * 1024


def test_events_that_arrive_together_come_as_one_chunk_and_none_waits_for_the_next() -> None:
    """What one read brought is relayed in one write; what has arrived is never held for more."""
    burst = [b"event: message_start\ndata: {}\n\n", b"event: ping\ndata: {}\n\n", b"event: content_block_start\n"]
    later = b"data: {}\n\nevent: message_stop\ndata: {}\n\n"
    first_chunk_seen = asyncio.Event()
    chunks: list[bytes] = []

    async def scenario() -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(13)
            writer.write(SSE_HEAD + b"".join(b"%x\r\n%b\r\n" % (len(event), event) for event in burst))
            await writer.drain()
            await asyncio.wait_for(first_chunk_seen.wait(), 5)  # the rest only once the burst was relayed
            writer.write(_chunked(later))
            await writer.drain()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        upstream = Upstream(Settings(upstream_url=f"http://127.0.0.1:{port}", connect_timeout_s=5.0), lambda: "sk-up")
        response = await _open(upstream)
        async for chunk in response.chunks():
            chunks.append(chunk)
            first_chunk_seen.set()
        await response.aclose()
        await upstream.aclose()
        server.close()

    _RUNNERS[_runner[0]](scenario())
    assert chunks == [b"".join(burst), later]
