"""Outermost ASGI wrapper of the admin API: a `request-id` on every answer and one structured log
line per request (who, what, status). In Lambda the id is the invocation's request id, so the answer,
the log line and Lambda's own REPORT line can be matched."""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codegateway.edge.telemetry import Telemetry


def _request_id(scope: Scope) -> str:
    lambda_request_id = getattr(scope.get("aws.context"), "aws_request_id", None)
    return str(lambda_request_id) if lambda_request_id else "req_cg_" + secrets.token_hex(12)


class AdminRequestLog:
    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        log_fields: dict[str, Any] = {}
        scope.setdefault("state", {}).update(request_id=request_id, log_fields=log_fields)
        started = time.monotonic()
        status = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            self.telemetry.request_finished(
                {
                    "request_id": request_id,
                    "surface": "admin",
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "latency_ms": round((time.monotonic() - started) * 1000, 1),
                    **log_fields,
                }
            )
