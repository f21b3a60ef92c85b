"""Outermost ASGI wrapper of both HTTP surfaces: a `request-id` on every answer (errors and crashes
included) and one structured log line per request, with the same fields on both surfaces:

    request_id, correlation_id, surface, method, path, status, latency_ms
    + what the request added to `scope["state"]["log_fields"]` on its way (the caller's account_id
      and key_id, or an admin's actor; error_type; the proxy's model, tokens, ...)

Metadata only: never a body, never a key. In Lambda behind Mangum (the admin function) the id is the
invocation's request id, so the answer, the log line and Lambda's REPORT line can be matched.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codegateway.edge.telemetry import Telemetry


def _request_id(scope: Scope) -> str:
    lambda_context = scope.get("aws.context")
    lambda_request_id = getattr(lambda_context, "aws_request_id", None) if lambda_context is not None else None
    return str(lambda_request_id) if lambda_request_id else "req_cg_" + secrets.token_hex(12)


class RequestLog:
    def __init__(
        self, app: ASGIApp, telemetry: Telemetry, *, surface: str, unlogged_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.telemetry = telemetry
        self.surface = surface
        self.unlogged_paths = frozenset(unlogged_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        request_id_header = (b"request-id", request_id.encode())
        log_fields: dict[str, Any] = {}
        scope.setdefault("state", {}).update(request_id=request_id, log_fields=log_fields)
        started = time.monotonic()
        status = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), request_id_header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            if scope["path"] not in self.unlogged_paths:
                self.telemetry.request_finished(
                    {
                        "request_id": request_id,
                        "correlation_id": request_id,
                        "surface": self.surface,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "latency_ms": round((time.monotonic() - started) * 1000, 1),
                        **log_fields,
                    }
                )
