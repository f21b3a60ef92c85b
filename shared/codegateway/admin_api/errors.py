"""The admin API's one error mapping: gateway errors, FastAPI's validation failures and unknown
routes, all in the gateway's Anthropic error shape (codegateway.errors) with the request id."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from codegateway.errors import GatewayError, InvalidRequest, MethodNotAllowed, NotFound, anthropic_error_body

# FastAPI's location prefixes add nothing a caller needs: "body.email" -> "email".
_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header"})


def error_response(request: Request, error: GatewayError) -> Response:
    state = request.scope.get("state", {})
    state.get("log_fields", {}).setdefault("error_type", error.error_type)
    return Response(
        anthropic_error_body(error.error_type, error.message, state.get("request_id")),
        status_code=error.status,
        media_type="application/json",
        headers={**error.headers, "x-should-retry": "true" if error.should_retry else "false"},
    )


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_message(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{_field(tuple(error.get('loc', ())))}: {error.get('msg', 'invalid')}" for error in errors)


async def _on_gateway_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, GatewayError)
    return error_response(request, error)


async def _on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return error_response(request, InvalidRequest(validation_message(list(error.errors()))))


async def _on_http_exception(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        return error_response(request, MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}."))
    return error_response(request, NotFound(f"No route for {request.method} {request.url.path}."))


async def _on_unexpected_error(request: Request, error: Exception) -> Response:
    return error_response(request, GatewayError("The admin API hit an internal error; the request id identifies it."))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _on_gateway_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected_error)
