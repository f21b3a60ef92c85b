"""Anthropic Messages stream -> OpenAI `chat.completion.chunk` stream, one upstream event at a time. No I/O.

Every upstream event is answered at once with the bytes to send for it (often one chunk, sometimes
none); nothing waits for a later event. The order OpenAI clients expect:

  message_start        -> delta {"role": "assistant", "content": ""}
  text_delta           -> delta {"content": text}
  tool_use block start -> delta {"tool_calls": [{index, id, type, function: {name, arguments: ""}}]}
  input_json_delta     -> delta {"tool_calls": [{index, function: {arguments: partial_json}}]}
  message_delta        -> delta {} with finish_reason
  message_stop         -> the usage chunk (choices: [], only with include_usage), then `data: [DONE]`
  error                -> data {"error": {...}}; no [DONE] follows, the stream failed

OpenAI's tool call `index` counts tool calls, not content blocks. A tool call whose input streamed no
JSON gets arguments "{}", so clients that json.loads the accumulated arguments never see "".

Keepalives: an upstream ping becomes the SSE comment `: ping`, and each dropped thinking event the
comment `: thinking`. SSE clients skip comment lines (the openai SDK's SSEDecoder.decode returns
nothing for a line starting with ":"), yet they keep bytes flowing: while a model thinks, the upstream
is busy but no chunk would go out, and middleboxes (CloudFront reads time out after 30 s) would see
an idle connection.
"""

from __future__ import annotations

from typing import Any

import orjson

from codegateway.domain.sse import SseEvent, SseParser
from codegateway.domain.usage import Usage
from codegateway.openai_compat.errors import openai_error_object
from codegateway.openai_compat.response import completion_id, finish_reason, openai_usage

PING_COMMENT = b": ping\n\n"
THINKING_COMMENT = b": thinking\n\n"
DONE = b"data: [DONE]\n\n"
_THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
_THINKING_DELTAS = frozenset({"thinking_delta", "signature_delta"})


class ChatCompletionStreamTranslator:
    """Feed it the upstream's bytes (`feed`) or its parsed events (`translate_event`); send what it returns."""

    def __init__(self, *, model: str, created: int, include_usage: bool) -> None:
        self._model = model
        self._created = created
        self._include_usage = include_usage
        self._parser = SseParser()
        self._usage = Usage()
        self._id = completion_id("")
        self._tool_call_index_by_block: dict[int, int] = {}
        self._blocks_without_arguments: set[int] = set()
        self._finish_sent = False
        self.finished = False

    def feed(self, chunk: bytes) -> bytes:
        """Raw upstream SSE bytes in any chunking -> the OpenAI SSE bytes to send now (maybe b"")."""
        return self._translate_all(self._parser.feed(chunk))

    def close(self) -> bytes:
        """The upstream ended. A stream cut before message_stop ends with an error, never silently."""
        out = self._translate_all(self._parser.close())
        if not self.finished:
            out += self.translate_event(
                "error", {"type": "error", "error": {"type": "api_error", "message": "The stream ended early."}}
            )
        return out

    def translate_event(self, name: str, data: dict[str, Any]) -> bytes:
        if self.finished:
            return b""
        kind = data.get("type", name)
        if kind == "message_start":
            return self._message_start(data.get("message") or {})
        if kind == "content_block_start":
            return self._block_start(data.get("index", 0), data.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(data.get("index", 0), data.get("delta") or {})
        if kind == "content_block_stop":
            return self._block_stop(data.get("index", 0))
        if kind == "message_delta":
            self._usage.merge(data.get("usage"))
            return self._finish((data.get("delta") or {}).get("stop_reason"))
        if kind == "message_stop":
            return self._message_stop()
        if kind == "ping":
            return PING_COMMENT
        if kind == "error":
            return self._error(data.get("error") or {})
        return b""

    def _translate_all(self, events: list[SseEvent]) -> bytes:
        return b"".join(self._translate_sse(event) for event in events)

    def _translate_sse(self, event: SseEvent) -> bytes:
        try:
            data = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            # An event cut short by a relay-written error event; the error event itself follows.
            return b""
        return self.translate_event(event.name, data) if isinstance(data, dict) else b""

    def _message_start(self, message: dict[str, Any]) -> bytes:
        self._id = completion_id(str(message.get("id", "")))
        self._usage.merge(message.get("usage"))
        return self._chunk({"role": "assistant", "content": ""})

    def _block_start(self, index: int, block: dict[str, Any]) -> bytes:
        block_type = block.get("type")
        if block_type == "text":
            return self._chunk({"content": block["text"]}) if block.get("text") else b""
        if block_type == "tool_use":
            tool_call_index = len(self._tool_call_index_by_block)
            self._tool_call_index_by_block[index] = tool_call_index
            self._blocks_without_arguments.add(index)
            opened = {
                "index": tool_call_index,
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": ""},
            }
            return self._chunk({"tool_calls": [opened]})
        return THINKING_COMMENT if block_type in _THINKING_BLOCKS else b""

    def _block_delta(self, index: int, delta: dict[str, Any]) -> bytes:
        delta_type = delta.get("type")
        if delta_type == "text_delta":
            return self._chunk({"content": delta["text"]}) if delta.get("text") else b""
        if delta_type == "input_json_delta" and index in self._tool_call_index_by_block:
            partial_json = delta.get("partial_json")
            if not partial_json:
                return b""
            self._blocks_without_arguments.discard(index)
            return self._arguments_chunk(index, partial_json)
        return THINKING_COMMENT if delta_type in _THINKING_DELTAS else b""

    def _block_stop(self, index: int) -> bytes:
        if index not in self._blocks_without_arguments:
            return b""
        self._blocks_without_arguments.discard(index)
        return self._arguments_chunk(index, "{}")

    def _arguments_chunk(self, index: int, arguments: str) -> bytes:
        tool_call = {"index": self._tool_call_index_by_block[index], "function": {"arguments": arguments}}
        return self._chunk({"tool_calls": [tool_call]})

    def _finish(self, stop_reason: str | None) -> bytes:
        if self._finish_sent:
            return b""
        self._finish_sent = True
        return self._chunk({}, finish_reason=finish_reason(stop_reason))

    def _message_stop(self) -> bytes:
        out = self._finish(None)
        if self._include_usage:
            out += _sse_data(self._envelope([], usage=openai_usage(self._usage)))
        self.finished = True
        return out + DONE

    def _error(self, error: dict[str, Any]) -> bytes:
        self.finished = True
        error_type = error.get("type") if isinstance(error.get("type"), str) else "api_error"
        message = error.get("message") if isinstance(error.get("message"), str) else "The upstream failed."
        return _sse_data({"error": openai_error_object(str(error_type), str(message))})

    def _chunk(self, delta: dict[str, Any], *, finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _sse_data(self._envelope([choice], usage=None))

    def _envelope(self, choices: list[dict[str, Any]], *, usage: dict[str, Any] | None) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self._include_usage:
            # With include_usage every chunk carries `usage`, null except on the last (OpenAI API reference).
            chunk["usage"] = usage
        return chunk


def _sse_data(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"
