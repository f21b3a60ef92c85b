"""Gateway errors -> JSON answers, one mapping for both HTTP surfaces (the error dictionary is
codegateway.errors): Anthropic's shape with the request id, or OpenAI's on a route that set
`scope["state"]["api_surface"] = ApiSurface.OPENAI`. Unknown routes, wrong methods and crashes answer
through the same mapping (404, 405, 500)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from codegateway.domain.outcomes import ApiSurface
from codegateway.errors import GatewayError, MethodNotAllowed, NotFound, anthropic_error_body

ExceptionHandler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


def error_response(request: Request, error: GatewayError) -> Response:
    state = request.scope.get("state", {})
    state.get("log_fields", {}).setdefault("error_type", error.error_type)
    if state.get("api_surface") == ApiSurface.OPENAI:
        # Imported here: only the key holders' surface has OpenAI routes (and has imported this
        # already); the admin function's cold start need not load the translator.
        from codegateway.openai_compat import openai_error_body

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


def exception_handlers() -> dict[int | type[Exception], ExceptionHandler]:
    """For Starlette's and FastAPI's `exception_handlers=`."""
    return {GatewayError: on_gateway_error, HTTPException: on_http_exception, Exception: on_unexpected_error}
