"""Why the proxy is plain Starlette: the same streaming endpoint in Starlette and in FastAPI, driven
in-process through ASGI (no sockets), so only the framework's own per-request work is timed.

    .venv/bin/python -m tests.load.framework_choice
"""

import asyncio
import statistics
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message

CHUNKS = [b"event: x\ndata: {}\n\n"] * 10


async def gen() -> AsyncIterator[bytes]:
    for c in CHUNKS:
        yield c


async def star_endpoint(request: Request) -> StreamingResponse:
    await request.body()
    return StreamingResponse(gen(), media_type="text/event-stream")


star = Starlette(routes=[Route("/v1/messages", star_endpoint, methods=["POST"])])
fast = FastAPI()


@fast.post("/v1/messages")
async def fast_endpoint(request: Request) -> StreamingResponse:
    await request.body()
    return StreamingResponse(gen(), media_type="text/event-stream")


async def drive(app: ASGIApp, n: int) -> list[float]:
    scope: dict[str, object] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/messages",
        "raw_path": b"/v1/messages",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def send(m: Message) -> None:
        pass

    times: list[float] = []
    for _ in range(n):
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"{}", "more_body": False}
            await asyncio.sleep(10)  # cancelled when the response ends
            return {"type": "http.disconnect"}

        t = time.perf_counter()
        await app(dict(scope), receive, send)
        times.append(time.perf_counter() - t)
    return times


async def main() -> None:
    for app in (star, fast):
        await drive(app, 2000)
    for name, app in (("starlette", star), ("fastapi", fast), ("starlette", star), ("fastapi", fast)):
        t = await drive(app, 20000)
        print(
            f"{name:10s} median {statistics.median(t) * 1e6:7.1f} us  p95 {sorted(t)[int(len(t) * 0.95)] * 1e6:7.1f} us"
        )


asyncio.run(main())
