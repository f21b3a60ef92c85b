"""FastAPI's request validation failures as the gateway's 400 (the admin API is the FastAPI app; the
key holders' surface is plain Starlette and never imports FastAPI, which would slow its cold start)."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from codegateway.edge.error_responses import error_response
from codegateway.errors import InvalidRequest

# FastAPI's location prefixes add nothing a caller needs: "body.email" -> "email".
_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header"})


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_message(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{_field(tuple(error.get('loc', ())))}: {error.get('msg', 'invalid')}" for error in errors)


async def on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return error_response(request, InvalidRequest(validation_message(list(error.errors()))))
