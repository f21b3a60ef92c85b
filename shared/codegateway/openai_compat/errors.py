"""Errors on the OpenAI-compatible surface, in OpenAI's shape. No I/O.

Statuses never change: the gateway's and the upstream's errors keep their status and message, and only
the body is reshaped to `{"error": {"message", "type", "param", "code"}}`. The openai SDKs pick their
exception class from the status alone (openai/_client.py `_make_status_error`), so `type` and `code`
are for people and for code that branches on `error.code` (e.g. "insufficient_quota").
"""

from __future__ import annotations

from typing import Any

import orjson

from codegateway.errors import InvalidRequest


class InvalidChatRequest(InvalidRequest):
    """A Chat Completions request that cannot be translated: malformed, or asking for what the Messages API lacks.

    `param` names the offending field the way OpenAI does (`messages[2].tool_calls[0].function.arguments`).
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


# Anthropic error type -> (OpenAI error type, OpenAI error code). The codes are the ones OpenAI's own
# API uses for the same situations (invalid_api_key, insufficient_quota, rate_limit_exceeded,
# model_not_found, server_is_overloaded).
_OPENAI_TYPE_AND_CODE: dict[str, tuple[str, str | None]] = {
    "invalid_request_error": ("invalid_request_error", None),
    "authentication_error": ("invalid_request_error", "invalid_api_key"),
    "billing_error": ("insufficient_quota", "insufficient_quota"),
    "permission_error": ("permission_error", "permission_denied"),
    "not_found_error": ("invalid_request_error", "model_not_found"),
    "request_too_large": ("invalid_request_error", "request_too_large"),
    "rate_limit_error": ("rate_limit_error", "rate_limit_exceeded"),
    "api_error": ("server_error", None),
    "overloaded_error": ("server_error", "server_is_overloaded"),
    "timeout_error": ("server_error", "timeout"),
}

# For an upstream body that is not an Anthropic error (a proxy's HTML page, an empty body).
_ANTHROPIC_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def openai_error_object(
    anthropic_error_type: str, message: str, *, status: int | None = None, param: str | None = None
) -> dict[str, Any]:
    """The inner `error` object for an error the gateway or the upstream described in Anthropic's terms."""
    if anthropic_error_type in _OPENAI_TYPE_AND_CODE:
        openai_type, code = _OPENAI_TYPE_AND_CODE[anthropic_error_type]
    elif status is not None and status < 500:
        openai_type, code = "invalid_request_error", None
    else:
        openai_type, code = "server_error", None
    if status == 422 and anthropic_error_type == "invalid_request_error":
        code = "model_not_found"  # the gateway answers 422 only for a model id missing from its catalog
    return {"message": message, "type": openai_type, "param": param, "code": code}


def openai_error_body(status: int, anthropic_error_type: str, message: str, *, param: str | None = None) -> bytes:
    """A whole OpenAI error body: what the web layer sends for a GatewayError on this surface."""
    return orjson.dumps({"error": openai_error_object(anthropic_error_type, message, status=status, param=param)})


def to_openai_error(status: int, anthropic_error_body: bytes) -> bytes:
    """An upstream (or gateway) Anthropic error body, reshaped; the message is kept word for word."""
    error_type = _ANTHROPIC_TYPE_BY_STATUS.get(status, "api_error" if status >= 500 else "invalid_request_error")
    message = f"The Anthropic API answered with status {status}."
    try:
        payload = orjson.loads(anthropic_error_body)
    except orjson.JSONDecodeError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        if isinstance(error.get("type"), str):
            error_type = error["type"]
        if isinstance(error.get("message"), str) and error["message"]:
            message = error["message"]
    return openai_error_body(status, error_type, message)
