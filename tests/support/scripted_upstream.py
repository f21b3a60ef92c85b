"""A raw upstream on loopback that answers POST /v1/messages with exactly the SSE bytes a test
scripted (what the bundled emulator cannot produce: usage reported in odd places, thinking blocks
without text, events at chosen times). The script is chosen by the `x-script` request header."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


def sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@dataclass
class Script:
    events: list[bytes]
    # Seconds to wait before each event (same length as events, or empty: no waits).
    delays_s: list[float] = field(default_factory=list)
    # All events in one write (one segment on loopback: the gateway reads them together).
    in_one_write: bool = False


def message_start(usage: dict[str, Any], model: str = "claude-opus-4-8") -> bytes:
    message: dict[str, Any] = {
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return sse("message_start", {"type": "message_start", "message": message})


def text_block(texts: list[str], index: int = 0) -> list[bytes]:
    events = [
        sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        )
    ]
    events += [
        sse(
            "content_block_delta",
            {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}},
        )
        for text in texts
    ]
    events.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def message_end(usage: dict[str, Any], stop_reason: str = "end_turn") -> list[bytes]:
    return [
        sse(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": usage},
        ),
        sse("message_stop", {"type": "message_stop"}),
    ]


class ScriptedUpstream:
    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.requests: list[dict[str, Any]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                upstream.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                script = upstream.scripts.get(self.headers.get("x-script", ""))
                if script is None:
                    payload = b'{"type":"error","error":{"type":"not_found_error","message":"no such script"}}'
                    self.send_response(404)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream; charset=utf-8")
                self.send_header("request-id", "req_scripted")
                self.send_header("connection", "close")
                self.end_headers()
                try:
                    if script.in_one_write:
                        self.wfile.write(b"".join(script.events))
                        self.wfile.flush()
                        return
                    for index, event in enumerate(script.events):
                        if script.delays_s and script.delays_s[index]:
                            time.sleep(script.delays_s[index])
                        self.wfile.write(event)
                        self.wfile.flush()
                except OSError:
                    return  # the gateway stopped reading (a cut stream)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
