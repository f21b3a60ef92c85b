"""The OpenAI Chat Completions surface as a flow: translate in, forward like any Messages request,
translate out. Metering reads the upstream's own bytes, so a translated request is charged exactly
like the same native one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from codegateway.openai_compat import (
    ChatCompletionStreamTranslator,
    stream_includes_usage,
    to_anthropic_request,
    to_openai_error,
    to_openai_response,
)
from codegateway.proxy.relay import ClientEncoder
from codegateway.proxy.upstream import UpstreamResponse

ANTHROPIC_VERSION = b"2023-06-01"
# What an OpenAI client sends that means nothing to the Messages API.
_OPENAI_ONLY_PREFIXES = (b"openai-", b"x-stainless-")


@dataclass(frozen=True)
class ChatRequest:
    """A Chat Completions request, translated: the Messages body to forward and how to answer."""

    messages_body: bytes
    model: str
    stream: bool
    include_usage: bool


def translate_chat_request(openai_body: dict[str, Any]) -> ChatRequest:
    anthropic_body = to_anthropic_request(openai_body)
    return ChatRequest(
        messages_body=orjson.dumps(anthropic_body),
        model=anthropic_body["model"],
        stream=anthropic_body.get("stream") is True,
        include_usage=stream_includes_usage(openai_body),
    )


def messages_headers(client_headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The client's headers fit for the Messages API: OpenAI-only ones dropped, a version pinned."""
    headers = [
        (name, value)
        for name, value in client_headers
        if not name.startswith(_OPENAI_ONLY_PREFIXES) and name not in (b"content-type", b"anthropic-version")
    ]
    version = dict(client_headers).get(b"anthropic-version", ANTHROPIC_VERSION)
    return [*headers, (b"content-type", b"application/json"), (b"anthropic-version", version)]


class _StreamEncoder:
    content_type = b"text/event-stream; charset=utf-8"

    def __init__(self, chat: ChatRequest) -> None:
        self._translator = ChatCompletionStreamTranslator(
            model=chat.model, created=int(time.time()), include_usage=chat.include_usage
        )

    def encode(self, chunk: bytes) -> bytes:
        return self._translator.feed(chunk)

    def finish(self) -> bytes:
        return self._translator.close()


class _BodyEncoder:
    """A whole JSON answer (a message or an error) must be complete before it can be reshaped."""

    content_type = b"application/json"

    def __init__(self, chat: ChatRequest, status: int) -> None:
        self._chat = chat
        self._status = status
        self._body = bytearray()

    def encode(self, chunk: bytes) -> bytes:
        self._body += chunk
        return b""

    def finish(self) -> bytes:
        body = bytes(self._body)
        if self._status != 200:
            return to_openai_error(self._status, body)
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            return to_openai_error(502, b"")
        return orjson.dumps(to_openai_response(message, created=int(time.time()), model=self._chat.model))


def encoder_for(chat: ChatRequest, response: UpstreamResponse) -> ClientEncoder:
    if response.status == 200 and response.content_type.startswith("text/event-stream"):
        return _StreamEncoder(chat)
    return _BodyEncoder(chat, response.status)
