"""An upstream's cookies stay with the answer that set them: the gateway shares one connection pool
among all callers, so a cookie it kept (Cloudflare's __cf_bm, say) would go out with every other
caller's later requests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codegateway.proxy.upstream import Upstream
from codegateway.settings import Settings


@pytest.fixture
def cookie_setting_upstream() -> Iterator[tuple[str, list[str | None]]]:
    """A loopback upstream whose every answer sets a cookie; yields its URL and the Cookie header
    of each request it received (None: none sent)."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            seen.append(self.headers.get("cookie"))
            body = b'{"type":"message"}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("set-cookie", "__cf_bm=caller-one-session; Path=/; HttpOnly")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_a_cookie_the_upstream_set_is_never_sent_with_a_later_request(
    cookie_setting_upstream: tuple[str, list[str | None]],
) -> None:
    url, seen = cookie_setting_upstream

    async def two_requests() -> list[list[tuple[bytes, bytes]]]:
        upstream = Upstream(Settings(upstream_url=url), lambda: "sk-up")
        answers = []
        try:
            for caller_header in ([], [(b"x-app", b"cli")]):
                response = await upstream.open("POST", "/v1/messages", b"", caller_header, b"{}", time.monotonic() + 10)
                async for _chunk in response.chunks():
                    pass
                await response.aclose()
                answers.append(response.headers)
        finally:
            await upstream.aclose()
        return answers

    answers = asyncio.run(two_requests())
    assert seen == [None, None]
    # Nor does the caller get it: set-cookie describes the upstream hop only.
    assert all(name != b"set-cookie" for headers in answers for name, _ in headers)
