"""The emulator as the gateway sees it over HTTP: cached prompts' usage, explicit usage knobs,
and thinking that streams empty deltas but is billed (in-process, with an injected clock)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.testclient import TestClient

from codegateway.dev.emulator import create_emulator
from codegateway.dev.prompt_cache import block_tokens, count_input_tokens

SYSTEM = [{"type": "text", "text": "Rules of the repository. " * 300, "cache_control": {"type": "ephemeral"}}]
BODY: dict[str, Any] = {
    "model": "claude-opus-4-8",
    "max_tokens": 1000,
    "system": SYSTEM,
    "messages": [{"role": "user", "content": "hi"}],
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _events(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def test_the_second_request_reads_what_the_first_wrote_until_the_ttl_passes() -> None:
    clock = Clock()
    written = block_tokens(SYSTEM[0])
    with TestClient(create_emulator(clock=clock)) as emulator:
        first = emulator.post("/v1/messages", json=BODY).json()["usage"]
        clock.now += 60
        second = emulator.post("/v1/messages", json=BODY).json()["usage"]
        clock.now += 301
        third = emulator.post("/v1/messages", json=BODY).json()["usage"]
    assert first["cache_creation_input_tokens"] == written and first["cache_read_input_tokens"] == 0
    assert first["cache_creation"] == {"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0}
    assert second["cache_read_input_tokens"] == written and second["cache_creation_input_tokens"] == 0
    assert second["input_tokens"] == first["input_tokens"] == count_input_tokens(BODY) - written
    assert third["cache_creation_input_tokens"] == written and third["cache_read_input_tokens"] == 0


def test_streamed_usage_carries_the_same_cache_split_in_message_start() -> None:
    with TestClient(create_emulator(clock=Clock())) as emulator:
        emulator.post("/v1/messages", json=BODY)
        events = _events(emulator.post("/v1/messages", json={**BODY, "stream": True}).text)
    start = events[0]["message"]["usage"]
    assert start["cache_read_input_tokens"] == block_tokens(SYSTEM[0])
    assert events[-2]["usage"]["cache_read_input_tokens"] == block_tokens(SYSTEM[0])


def test_explicit_usage_knobs_win_over_the_cache_model_field_by_field() -> None:
    with TestClient(create_emulator(clock=Clock())) as emulator:
        emulator.post("/v1/messages", json=BODY)
        usage = emulator.post(
            "/v1/messages", json=BODY, headers={"x-emulator-usage": "cache_read=7,output=9,cache_write_1h=3"}
        ).json()["usage"]
    assert usage["cache_read_input_tokens"] == 7 and usage["output_tokens"] == 9
    assert usage["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 3}
    assert usage["cache_creation_input_tokens"] == 3
    assert usage["input_tokens"] == count_input_tokens(BODY) - block_tokens(SYSTEM[0])  # still computed


def test_thinking_streams_empty_deltas_while_output_tokens_count_it() -> None:
    headers = {"x-emulator-thinking-tokens": "5000", "x-emulator-text": "done", "x-emulator-deltas": "4"}
    body = {**BODY, "max_tokens": 8000, "stream": True}
    with TestClient(create_emulator(clock=Clock())) as emulator:
        events = _events(emulator.post("/v1/messages", json=body, headers=headers).text)
        plain = emulator.post("/v1/messages", json={**body, "stream": False}, headers=headers).json()
    starts = [event["content_block"] for event in events if event["type"] == "content_block_start"]
    assert [block["type"] for block in starts] == ["thinking", "text"]
    thinking = [event["delta"] for event in events if event.get("delta", {}).get("type") == "thinking_delta"]
    assert len(thinking) == 4 and all(delta["thinking"] == "" for delta in thinking)
    assert any(event.get("delta", {}).get("type") == "signature_delta" for event in events)
    assert events[-2]["usage"]["output_tokens"] == 5000 + 1  # "done": one stand-in token
    assert [block["type"] for block in plain["content"]] == ["thinking", "text"]
    assert plain["content"][0]["thinking"] == "" and plain["usage"]["output_tokens"] == 5001


def test_thinking_that_uses_the_whole_budget_stops_at_max_tokens() -> None:
    with TestClient(create_emulator(clock=Clock())) as emulator:
        answer = emulator.post(
            "/v1/messages", json={**BODY, "max_tokens": 300}, headers={"x-emulator-thinking-tokens": "5000"}
        ).json()
    assert answer["stop_reason"] == "max_tokens"
    assert [block["type"] for block in answer["content"]] == ["thinking"]
    assert answer["usage"]["output_tokens"] == 300


def test_defaults_set_over_http_apply_to_later_requests_until_reset_and_headers_still_win() -> None:
    with TestClient(create_emulator(clock=Clock())) as emulator:
        assert emulator.put("/_emulator/defaults", json={"x-emulator-text": "slow one"}).status_code == 204
        by_default = emulator.post("/v1/messages", json=BODY).json()
        by_header = emulator.post("/v1/messages", json=BODY, headers={"x-emulator-text": "mine"}).json()
        assert emulator.delete("/_emulator/defaults").status_code == 204
        after_reset = emulator.post("/v1/messages", json=BODY).json()
        refused = emulator.put("/_emulator/defaults", json={"first-byte-delay-ms": 50})
    assert by_default["content"][0]["text"] == "slow one"
    assert by_header["content"][0]["text"] == "mine"
    assert after_reset["content"][0]["text"] == "Hello from the CodeGateway emulator."
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_request_error"
