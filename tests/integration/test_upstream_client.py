"""The upstream client over real loopback sockets: cookies stay with the answer that set them (the
gateway shares one connection pool among all callers, so a cookie it kept - Cloudflare's __cf_bm,
say - would go out with every other caller's later requests), and TLS to a certificate the
process trusts works while one it does not is refused."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codegateway.errors import UpstreamConnectFailed
from codegateway.proxy.upstream import Upstream
from codegateway.settings import Settings
from tests.support.faults import PrivateCa, private_ca


def _serve(seen: list[str | None], ca: PrivateCa | None = None) -> Iterator[str]:
    """A loopback upstream (HTTPS with `ca`'s certificate) whose every answer sets a cookie; yields
    its URL and appends the Cookie header of each request it receives to `seen` (None: none sent)."""

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
    if ca is not None:
        server.socket = ca.server_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{'https' if ca else 'http'}://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def cookie_setting_upstream() -> Iterator[tuple[str, list[str | None]]]:
    seen: list[str | None] = []
    for url in _serve(seen):
        yield url, seen


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return private_ca(tmp_path_factory.mktemp("ca"))


async def _requests(url: str, count: int) -> list[list[tuple[bytes, bytes]]]:
    """`count` requests in a row through one Upstream (one pool); the headers each answer had."""
    settings = Settings(upstream_url=url, connect_timeout_s=5.0)
    upstream = Upstream(settings, lambda: "sk-up")
    answers = []
    try:
        for index in range(count):
            response = await upstream.open(
                "POST", "/v1/messages", b"", [(b"x-turn", str(index).encode())], b"{}", time.monotonic() + 10
            )
            body = b"".join([chunk async for chunk in response.chunks()])
            await response.aclose()
            assert body == b'{"type":"message"}'
            answers.append(response.headers)
    finally:
        await upstream.aclose()
    return answers


def test_a_cookie_the_upstream_set_is_never_sent_with_a_later_request(
    cookie_setting_upstream: tuple[str, list[str | None]],
) -> None:
    url, seen = cookie_setting_upstream
    answers = asyncio.run(_requests(url, 2))
    assert seen == [None, None]
    # Nor does the caller get it: set-cookie describes the upstream hop only.
    assert all(name != b"set-cookie" for headers in answers for name, _ in headers)


def test_tls_to_a_trusted_certificate_works_for_requests_in_a_row(
    ca: PrivateCa, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_pem))
    seen: list[str | None] = []
    for url in _serve(seen, ca):
        assert len(asyncio.run(_requests(url, 3))) == 3
    assert seen == [None, None, None]


def test_tls_to_an_untrusted_certificate_is_refused(ca: PrivateCa) -> None:
    seen: list[str | None] = []
    for url in _serve(seen, ca):
        with pytest.raises(UpstreamConnectFailed):
            asyncio.run(_requests(url, 1))
    assert seen == []
