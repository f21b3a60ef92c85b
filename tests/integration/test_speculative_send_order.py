"""Under speculation the request reaches the upstream before admission's store call starts (that call's
thread would take the GIL from the send, and the upstream's first byte is what the client waits for),
and admission never waits for a new connection to open. Real Upstream, real loopback sockets."""

from __future__ import annotations

import asyncio
import select
import socket
import time
from types import SimpleNamespace
from typing import Any, cast

from codegateway.proxy import admitting
from codegateway.proxy.upstream import Upstream
from codegateway.settings import Settings

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"


class Admission:
    """Admission whose store call looks at the upstream's side of the socket, blocking the event loop
    while it looks: whatever is there was written before admission started."""

    def __init__(self, upstream_side: list[socket.socket]) -> None:
        self.upstream_side = upstream_side
        self.request_there: bool | None = None
        self.speculation = SimpleNamespace(ticket=lambda exchange, nano: SimpleNamespace(admitted=lambda: None))

    def plan(self, exchange: object, *, cache_history: bool = True) -> object:
        return SimpleNamespace(hold=SimpleNamespace(nano=1))

    async def admit(self, exchange: object, planned: object) -> None:
        if not self.upstream_side:
            self.request_there = False  # not even connected yet
            return
        readable, _, _ = select.select(self.upstream_side, [], [], 1.0)
        self.request_there = bool(readable) and self.upstream_side[0].recv(65536, socket.MSG_PEEK).endswith(b"{}")


def _exchange(body: bytes) -> Any:
    return SimpleNamespace(
        message=SimpleNamespace(stream=False), log_fields={}, method="POST", path="/v1/messages", query=b"",
        headers=[], body=body, deadline=time.monotonic() + 30, started=time.monotonic(),
    )  # fmt: skip


async def _serve_one(listener: socket.socket, accepted: list[socket.socket]) -> None:
    loop = asyncio.get_running_loop()
    if not accepted:
        connection, _ = await loop.sock_accept(listener)
        accepted.append(connection)
    request = b""
    while not request.endswith(b"{}"):
        chunk = await loop.sock_recv(accepted[0], 65536)
        assert chunk, f"the connection closed after {request!r}"
        request += chunk
    await loop.sock_sendall(accepted[0], ANSWER)


async def _speculate(upstream: Upstream, admission: Admission) -> bytes:
    opening = await admitting.admit(_exchange(b"{}"), cast(Any, admission), upstream, cast(Any, None))
    assert opening is not None
    response = await opening
    body = b"".join([chunk async for chunk in response.chunks()])
    await response.aclose()
    return body


def _scenario(warm: bool) -> Admission:
    async def run() -> Admission:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        accepted: list[socket.socket] = []
        settings = Settings(upstream_url=f"http://127.0.0.1:{listener.getsockname()[1]}", connect_timeout_s=5.0)
        upstream = Upstream(settings, lambda: "sk-up")
        try:
            if warm:  # one earlier request leaves a pooled connection
                served = asyncio.create_task(_serve_one(listener, accepted))
                response = await upstream.open("POST", "/v1/messages", b"", [], b"{}", time.monotonic() + 10)
                assert b"".join([chunk async for chunk in response.chunks()]) == b"{}"
                await response.aclose()
                await served
            # The live list: admission sees a connection only if the server got to accept one first.
            admission = Admission(accepted)
            served = asyncio.create_task(_serve_one(listener, accepted))
            assert await _speculate(upstream, admission) == b"{}"
            await served
            return admission
        finally:
            await upstream.aclose()
            for connection in accepted:
                connection.close()
            listener.close()

    return asyncio.run(run())


def test_on_a_pooled_connection_the_upstream_has_the_whole_request_before_admission_starts() -> None:
    assert _scenario(warm=True).request_there is True


def test_a_new_connection_is_opened_beside_admission_not_before_it() -> None:
    # Admission ran before the connection was accepted (a send that waited out the connect first would
    # have let the server accept it, and admission would find the request there).
    assert _scenario(warm=False).request_there is False
