"""Errors keep their status and message and take OpenAI's shape, with OpenAI's type and code."""

from __future__ import annotations

import orjson
import pytest

from codegateway.errors import InsufficientBalance, RateLimited, UnknownModel
from codegateway.openai_compat import InvalidChatRequest, openai_error_body, to_openai_error


def _anthropic_body(error_type: str, message: str) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_1"})


@pytest.mark.parametrize(
    ("status", "anthropic_type", "openai_type", "code"),
    [
        (400, "invalid_request_error", "invalid_request_error", None),
        (401, "authentication_error", "invalid_request_error", "invalid_api_key"),
        (402, "billing_error", "insufficient_quota", "insufficient_quota"),
        (403, "permission_error", "permission_error", "permission_denied"),
        (404, "not_found_error", "invalid_request_error", "model_not_found"),
        (413, "request_too_large", "invalid_request_error", "request_too_large"),
        (422, "invalid_request_error", "invalid_request_error", "model_not_found"),
        (429, "rate_limit_error", "rate_limit_error", "rate_limit_exceeded"),
        (500, "api_error", "server_error", None),
        (502, "api_error", "server_error", None),
        (504, "timeout_error", "server_error", "timeout"),
        (529, "overloaded_error", "server_error", "server_is_overloaded"),
        (418, "teapot_error", "invalid_request_error", None),
        (503, "future_error", "server_error", None),
    ],
)
def test_anthropic_errors_become_openai_errors(status: int, anthropic_type: str, openai_type: str, code: str) -> None:
    body = to_openai_error(status, _anthropic_body(anthropic_type, "Exactly this message."))
    assert orjson.loads(body) == {
        "error": {"message": "Exactly this message.", "type": openai_type, "param": None, "code": code}
    }


@pytest.mark.parametrize(
    ("status", "body", "openai_type", "code"),
    [
        (502, b"<html>Bad Gateway</html>", "server_error", None),
        (429, b"", "rate_limit_error", "rate_limit_exceeded"),
        (401, b'{"unexpected": true}', "invalid_request_error", "invalid_api_key"),
        (500, b'{"error": "a string, not an object"}', "server_error", None),
    ],
)
def test_bodies_that_are_not_anthropic_errors_still_answer_in_openai_shape(
    status: int, body: bytes, openai_type: str, code: str | None
) -> None:
    error = orjson.loads(to_openai_error(status, body))["error"]
    assert (error["type"], error["code"]) == (openai_type, code)
    assert error["message"] == f"The Anthropic API answered with status {status}."


@pytest.mark.parametrize(
    ("error", "openai_type", "code"),
    [
        (InsufficientBalance(), "insufficient_quota", "insufficient_quota"),
        (RateLimited("Slow down.", retry_after_s=3), "rate_limit_error", "rate_limit_exceeded"),
        (
            UnknownModel("model: 'gpt-4o' is not a model this gateway serves."),
            "invalid_request_error",
            "model_not_found",
        ),
    ],
)
def test_gateway_errors_shape_through_openai_error_body(error: Exception, openai_type: str, code: str) -> None:
    status, error_type, message = error.status, error.error_type, error.message  # type: ignore[attr-defined]
    body = orjson.loads(openai_error_body(status, error_type, message))
    assert body == {"error": {"message": message, "type": openai_type, "param": None, "code": code}}


def test_an_untranslatable_request_is_a_400_with_its_param() -> None:
    refused = InvalidChatRequest("n: only one choice per request is supported (n must be 1).", param="n")
    assert (refused.status, refused.error_type) == (400, "invalid_request_error")
    body = orjson.loads(openai_error_body(refused.status, refused.error_type, refused.message, param=refused.param))
    assert body["error"] == {"message": refused.message, "type": "invalid_request_error", "param": "n", "code": None}
