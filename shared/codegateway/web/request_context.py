"""Outermost ASGI wrapper: a request id on every answer (errors and crashes included) and one
structured log line per request. Metadata only: never a body, never a key."""

from __future__ import annotations

import secrets
import time
from typing import Any

from codegateway.edge.telemetry import Telemetry
from codegateway.proxy.relay import Receive, Send

ASGIApp = Any
# Probes (the adapter's readiness check, Claude Code's reachability HEAD) would drown the log.
_UNLOGGED_PATHS = frozenset({"/healthz", "/", "/api/hello"})


def new_request_id() -> str:
    return "req_cg_" + secrets.token_hex(12)


class RequestContext:
    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        request_id_header = (b"request-id", request_id.encode())
        log_fields: dict[str, Any] = {}
        scope.setdefault("state", {}).update(request_id=request_id, log_fields=log_fields)
        started = time.monotonic()
        status = 0

        async def send_with_request_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), request_id_header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            if scope["path"] not in _UNLOGGED_PATHS:
                self.telemetry.request_finished(
                    {
                        "request_id": request_id,
                        "correlation_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "latency_ms": round((time.monotonic() - started) * 1000, 1),
                        **log_fields,
                    }
                )
