"""GET /v1/diagnostics/stream?idle_s=N: the free stream `cgw doctor` measures (see diagnostics.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from codegateway.edge.caller import authenticated
from codegateway.proxy.diagnostics import parse_idle_s
from codegateway.proxy.runtime import Gateway


async def diagnostics_stream(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway.authenticator)
    idle_s = parse_idle_s(request.query_params.get("idle_s"))
    stream = await gateway.diagnostics.open_stream(caller, idle_s)
    # no-transform / x-accel-buffering: proxies on the way must pass each ping on, not collect them.
    headers = {"cache-control": "no-cache, no-transform", "x-accel-buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
