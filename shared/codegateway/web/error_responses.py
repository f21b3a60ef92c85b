"""Gateway errors -> Anthropic-shaped JSON answers (DESIGN.md error dictionary)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from codegateway.domain.outcomes import ApiSurface
from codegateway.errors import GatewayError, MethodNotAllowed, NotFound, anthropic_error_body
from codegateway.openai_compat import openai_error_body


def error_response(request: Request, error: GatewayError) -> Response:
    state = request.scope.get("state", {})
    state.get("log_fields", {}).setdefault("error_type", error.error_type)
    if state.get("api_surface") == ApiSurface.OPENAI:
        body = openai_error_body(error.status, error.error_type, error.message, param=getattr(error, "param", None))
    else:
        body = anthropic_error_body(error.error_type, error.message, state.get("request_id"))
    return Response(
        body,
        status_code=error.status,
        media_type="application/json",
        headers={**error.headers, "x-should-retry": "true" if error.should_retry else "false"},
    )


async def on_gateway_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, GatewayError)
    return error_response(request, error)


async def on_http_exception(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        return error_response(request, MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}."))
    return error_response(request, NotFound(f"No route for {request.method} {request.url.path}."))


async def on_unexpected_error(request: Request, error: Exception) -> Response:
    return error_response(request, GatewayError("The gateway hit an internal error; the request id identifies it."))
