"""The OpenAI Chat Completions surface, translated to and from the Messages API. Pure: no I/O, no clock.

The web layer calls, per request:
  to_anthropic_request(body) -> the Messages body to forward (InvalidChatRequest -> 400);
  to_openai_response(message, created=..., model=...) for a whole answer, or, for a stream,
  ChatCompletionStreamTranslator(...).feed(upstream_bytes) -> the bytes to send, then .close();
  to_openai_error(status, upstream_error_body) / openai_error_body(...) for errors;
  to_openai_model_list(...) for GET /v1/models in OpenAI's shape.
"""

from codegateway.openai_compat.errors import InvalidChatRequest, openai_error_body, to_openai_error
from codegateway.openai_compat.models import to_openai_model_list
from codegateway.openai_compat.request import DEFAULT_MAX_TOKENS, stream_includes_usage, to_anthropic_request
from codegateway.openai_compat.response import to_openai_response
from codegateway.openai_compat.stream import ChatCompletionStreamTranslator

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "ChatCompletionStreamTranslator",
    "InvalidChatRequest",
    "openai_error_body",
    "stream_includes_usage",
    "to_anthropic_request",
    "to_openai_error",
    "to_openai_model_list",
    "to_openai_response",
]
