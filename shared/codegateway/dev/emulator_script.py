"""What the upstream emulator answers, decided from the request and its `x-emulator-*` knobs. No I/O.

Knobs are request headers, so a test sets them per request and the gateway forwards them untouched:
  x-emulator-status: 529            answer this status (Anthropic error body) ...
  x-emulator-fail-times: 1          ... only for the first N attempts of x-emulator-scenario
  x-emulator-scenario: ID           groups attempts (retries) of one logical request
  x-emulator-first-byte-delay-ms    wait before the response headers
  x-emulator-event-delay-ms         wait between stream events
  x-emulator-silence-ms             one silence mid-stream ...
  x-emulator-silence-after-events   ... after this many events (default 3)
  x-emulator-reset-after-events: N  drop the connection after N events
  x-emulator-usage: input=1000,output=500,cache_write_5m=2000,cache_write_1h=0,cache_read=10000,
                    web_search=1,speed=fast,inference_geo=us
                                    usage counts to report: each one given replaces what the prompt
                                    cache model (prompt_cache.py) computed; the others stay computed
                                    (a request's own "speed" is echoed in usage.speed, as the API does)
  x-emulator-thinking-tokens: N     open with a thinking block of N output tokens whose
                                    thinking_delta text is empty, as current Opus/Fable models
                                    stream by default (display omitted): output_tokens counts them
  x-emulator-text: TEXT             the answer's text
  x-emulator-deltas: N              split the text into N content_block_delta events
  x-emulator-tool-call: JSON        answer with a tool_use block {"name": ..., "input": {...}}
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson

from codegateway.dev.prompt_cache import CacheUsage, count_input_tokens, too_many_breakpoints

DEFAULT_TEXT = "Hello from the CodeGateway emulator."
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {529: "Overloaded", 429: "Number of request tokens has exceeded your per-minute rate limit"}


@dataclass
class Knobs:
    status: int | None = None
    fail_times: int | None = None
    scenario: str | None = None
    first_byte_delay_s: float = 0.0
    event_delay_s: float = 0.0
    silence_s: float = 0.0
    silence_after_events: int = 3
    reset_after_events: int | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    text: str = DEFAULT_TEXT
    deltas: int = 3
    tool_call: dict[str, Any] | None = None
    thinking_tokens: int = 0

    @classmethod
    def from_headers(cls, headers: dict[str, str], defaults: Knobs | None = None) -> Knobs:
        knobs = Knobs(**vars(defaults)) if defaults else Knobs()

        def number(name: str) -> float | None:
            raw = headers.get(f"x-emulator-{name}")
            return float(raw) if raw not in (None, "") else None

        if (value := number("status")) is not None:
            knobs.status = int(value)
        if (value := number("fail-times")) is not None:
            knobs.fail_times = int(value)
        knobs.scenario = headers.get("x-emulator-scenario", knobs.scenario)
        if (value := number("first-byte-delay-ms")) is not None:
            knobs.first_byte_delay_s = value / 1000
        if (value := number("event-delay-ms")) is not None:
            knobs.event_delay_s = value / 1000
        if (value := number("silence-ms")) is not None:
            knobs.silence_s = value / 1000
        if (value := number("silence-after-events")) is not None:
            knobs.silence_after_events = int(value)
        if (value := number("reset-after-events")) is not None:
            knobs.reset_after_events = int(value)
        if (value := number("deltas")) is not None:
            knobs.deltas = max(1, int(value))
        if (value := number("thinking-tokens")) is not None:
            knobs.thinking_tokens = max(0, int(value))
        if "x-emulator-usage" in headers:
            knobs.usage = parse_usage_knob(headers["x-emulator-usage"])
        if "x-emulator-text" in headers:
            knobs.text = headers["x-emulator-text"]
        if "x-emulator-tool-call" in headers:
            knobs.tool_call = orjson.loads(headers["x-emulator-tool-call"])
        return knobs


_TEXT_USAGE_KNOBS = ("speed", "inference_geo")


def parse_usage_knob(text: str) -> dict[str, Any]:
    usage: dict[str, Any] = {}
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        usage[name.strip()] = value.strip() if name.strip() in _TEXT_USAGE_KNOBS else int(value)
    return usage


def error_body(status: int, message: str | None = None) -> bytes:
    error_type = ERROR_TYPES.get(status, "api_error")
    text = message or ERROR_MESSAGES.get(status, f"Emulated {status} error")
    return orjson.dumps({"type": "error", "error": {"type": error_type, "message": text}})


def validate(payload: Any, *, count_only: bool = False) -> str | None:
    """An Anthropic-style invalid_request_error message, or None when the request is acceptable."""
    if not isinstance(payload, dict):
        return "Request body must be a JSON object"
    if not isinstance(payload.get("model"), str):
        return "model: Field required"
    if not isinstance(payload.get("messages"), list):
        return "messages: Field required"
    if not count_only and not isinstance(payload.get("max_tokens"), int):
        return "max_tokens: Field required"
    return too_many_breakpoints(payload)


@dataclass
class Answer:
    """A complete message, ready to be sent whole or as a stream."""

    message_id: str
    model: str
    blocks: list[dict[str, Any]]
    stop_reason: str
    stop_sequence: str | None
    usage: dict[str, Any]


def compose_answer(payload: dict[str, Any], knobs: Knobs, cache: CacheUsage | None = None) -> Answer:
    """The answer to `payload`; `cache` is what the prompt cache model read and wrote for it (None:
    nothing cached, the whole prompt is input)."""
    text = knobs.text
    stop_reason, stop_sequence = "end_turn", None
    for sequence in payload.get("stop_sequences") or []:
        if isinstance(sequence, str) and sequence and sequence in text:
            text, stop_reason, stop_sequence = text[: text.index(sequence)], "stop_sequence", sequence
            break
    max_tokens = payload.get("max_tokens")
    budget = max_tokens if isinstance(max_tokens, int) else None
    thinking_tokens = min(knobs.thinking_tokens, budget) if budget is not None else knobs.thinking_tokens
    blocks: list[dict[str, Any]] = []
    if thinking_tokens:
        blocks.append({"type": "thinking", "thinking": "", "signature": "emu_sig_" + secrets.token_hex(16)})
    text_budget = None if budget is None else budget - thinking_tokens
    output_tokens = thinking_tokens
    if text_budget is None or text_budget > 0:
        text_tokens = max(1, math.ceil(len(text) / 4))
        if text_budget is not None and text_tokens > text_budget:
            text, text_tokens, stop_reason = text[: text_budget * 4], text_budget, "max_tokens"
        blocks.append({"type": "text", "text": text})
        output_tokens += text_tokens
    else:
        stop_reason = "max_tokens"  # the whole budget went on thinking
    if knobs.tool_call is not None:
        blocks.append(
            {
                "type": "tool_use",
                "id": "toolu_emu_" + secrets.token_hex(8),
                "name": knobs.tool_call["name"],
                "input": knobs.tool_call.get("input", {}),
            }
        )
        stop_reason, stop_sequence = "tool_use", None
    cache = cache or CacheUsage(input_tokens=count_input_tokens(payload))
    knob = knobs.usage
    write_5m = knob.get("cache_write_5m", cache.ephemeral_5m_input_tokens)
    write_1h = knob.get("cache_write_1h", cache.ephemeral_1h_input_tokens)
    usage: dict[str, Any] = {
        "input_tokens": knob.get("input", cache.input_tokens),
        "cache_creation_input_tokens": write_5m + write_1h,
        "cache_read_input_tokens": knob.get("cache_read", cache.cache_read_input_tokens),
        "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
        "output_tokens": knob.get("output", output_tokens),
        "service_tier": "standard",
    }
    if knob.get("web_search"):
        usage["server_tool_use"] = {"web_search_requests": knob["web_search"]}
    if "speed" in knob or isinstance(payload.get("speed"), str):
        usage["speed"] = knob.get("speed", payload.get("speed"))
    if "inference_geo" in knob:
        usage["inference_geo"] = knob["inference_geo"]
    return Answer("msg_emu_" + secrets.token_hex(12), payload["model"], blocks, stop_reason, stop_sequence, usage)


def message_json(answer: Answer) -> dict[str, Any]:
    return {
        "id": answer.message_id,
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": answer.blocks,
        "stop_reason": answer.stop_reason,
        "stop_sequence": answer.stop_sequence,
        "usage": answer.usage,
    }


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})


def _block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def stream_events(answer: Answer, deltas: int) -> list[bytes]:
    """Every event of a Messages stream, in the API's order."""
    start_usage = {**answer.usage, "output_tokens": 1}
    start = {
        **message_json(answer),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events = [
        _event("message_start", {"type": "message_start", "message": start}),
        _event("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(answer.blocks):
        if block["type"] == "text":
            events.append(_block_start(index, {"type": "text", "text": ""}))
            size = max(1, math.ceil(len(block["text"]) / deltas))
            for offset in range(0, max(len(block["text"]), 1), size):
                piece = block["text"][offset : offset + size]
                events.append(_block_delta(index, {"type": "text_delta", "text": piece}))
        elif block["type"] == "thinking":
            # Display omitted: the thinking happens (and is billed) but its deltas carry no text.
            events.append(_block_start(index, {"type": "thinking", "thinking": "", "signature": ""}))
            events += [_block_delta(index, {"type": "thinking_delta", "thinking": ""}) for _ in range(deltas)]
            events.append(_block_delta(index, {"type": "signature_delta", "signature": block["signature"]}))
        else:
            events.append(_block_start(index, {**block, "input": {}}))
            partial_json = orjson.dumps(block["input"]).decode()
            events.append(_block_delta(index, {"type": "input_json_delta", "partial_json": partial_json}))
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    final_usage = {key: value for key, value in answer.usage.items() if key != "service_tier"}
    events.append(
        _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": answer.stop_reason, "stop_sequence": answer.stop_sequence},
                "usage": final_usage,
            },
        )
    )
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events
