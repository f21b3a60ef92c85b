"""The hold rule (estimate.py): prompt sized from the body, cached prefix priced as a cache read,
output a first block for streams and max_tokens for plain answers. Figures on claude-opus-4-8
($5 input, $10 1-hour write, $0.50 read, $25 output per MTok = 5,000 / 10,000 / 500 / 25,000 nano-USD
per token) at 1.5x."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from codegateway.domain.catalog import Catalog
from codegateway.domain.estimate import estimate_hold
from codegateway.domain.message_request import parse_message_request
from codegateway.domain.prompt_shape import PromptShape
from codegateway.errors import InvalidRequest
from codegateway.proxy.prompt_history import PromptHistory

CATALOG = Catalog.load()
MARKUP_BP = 15_000
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _body(size: int, **fields: object) -> bytes:
    payload = {"model": "claude-opus-4-8", "messages": [{"role": "user", "content": "hi"}], **fields}
    # Trailing spaces are valid JSON: the body is exactly `size` bytes, so the figures are exact.
    return orjson.dumps(payload).ljust(size)


def test_a_plain_prompt_holds_input_and_the_first_block_of_output() -> None:
    message = parse_message_request(_body(6000, max_tokens=500, stream=True), CATALOG)
    # 1,500 input x 5,000 + 500 output x 25,000 = 20,000,000 nano; x 1.5 = $0.03.
    assert estimate_hold(message, MARKUP_BP, cached_tokens=0, at=NOW).nano == 30_000_000


def test_a_stream_starts_with_2048_output_tokens_however_large_max_tokens_is() -> None:
    message = parse_message_request(_body(4000, max_tokens=64_000, stream=True), CATALOG)
    # (1,000 x 5,000 + 2,048 x 25,000) x 1.5 = 84,300,000.
    assert estimate_hold(message, MARKUP_BP, cached_tokens=0, at=NOW).nano == 84_300_000


def test_a_plain_answer_holds_its_whole_max_tokens_because_it_cannot_be_cut() -> None:
    message = parse_message_request(_body(4000, max_tokens=64_000), CATALOG)
    # (1,000 x 5,000 + 64,000 x 25,000) x 1.5 = 2,407,500,000.
    assert estimate_hold(message, MARKUP_BP, cached_tokens=0, at=NOW).nano == 2_407_500_000


def test_an_uncached_prompt_with_a_one_hour_breakpoint_holds_the_write_price() -> None:
    system = [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    message = parse_message_request(_body(40_000, max_tokens=100, stream=True, system=system), CATALOG)
    # 10,000 written at 10,000 + 100 output x 25,000 = 102,500,000; x 1.5 = 153,750,000.
    assert estimate_hold(message, MARKUP_BP, cached_tokens=0, at=NOW).nano == 153_750_000


def test_the_part_a_conversation_cached_last_turn_is_held_at_the_read_price() -> None:
    system = [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    message = parse_message_request(_body(40_000, max_tokens=100, stream=True, system=system), CATALOG)
    # 9,000 read x 500 + 1,000 written x 10,000 + 100 x 25,000 = 17,000,000; x 1.5 = 25,500,000.
    assert estimate_hold(message, MARKUP_BP, cached_tokens=9_000, at=NOW).nano == 25_500_000


def test_base64_image_bytes_count_as_an_image_not_as_text() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "A" * 400_000}}
    messages = [{"role": "user", "content": [image, {"type": "text", "text": "what is this?"}]}]
    body = _body(404_000, max_tokens=10, stream=True, messages=messages)
    estimate = estimate_hold(parse_message_request(body, CATALOG), MARKUP_BP, cached_tokens=0, at=NOW)
    # 4,000 text bytes -> 1,000 tokens, plus 1,600 for the image (not 100,000 for its base64).
    assert estimate.prompt_tokens == 2_600


def test_history_remembers_what_a_turn_cached_for_the_next_turn_of_that_conversation() -> None:
    now = [1000.0]
    history = PromptHistory(clock=lambda: now[0])
    system = [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "5m"}}]
    first = parse_message_request(_body(8_000, max_tokens=10, stream=True, system=system), CATALOG).shape
    assert first is not None
    history.remember("key_a", first, cache_read_tokens=0, cache_write_tokens=2_000)
    assert history.cached_tokens("key_a", first) == 2_000
    assert history.cached_tokens("key_b", first) == 0  # another key's conversation
    now[0] += 301  # past the 5-minute TTL
    assert history.cached_tokens("key_a", first) == 0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"max_tokens": -1}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "64"}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({}, "max_tokens"),
        ({"max_tokens": 10, "stream": "yes"}, "stream"),
        ({"max_tokens": 10, "model": "claude-" + "x" * 300}, "model"),
    ],
    ids=["negative", "zero", "string", "float", "bool", "missing", "stream-string", "model-too-long"],
)
def test_every_number_that_sizes_the_hold_is_validated(fields: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_message_request(_body(200, **fields), CATALOG)
    assert refused.value.message.startswith(named + ":")


def test_a_fast_request_is_held_at_the_fast_price() -> None:
    body = orjson.dumps(
        {"model": "claude-opus-5-5", "speed": "fast", "max_tokens": 500, "stream": True, "messages": []}
    ).ljust(4000)
    # Opus 5.5 ($4 in, $20 out per MTok) at fast 2x: (1,000 x 8,000 + 500 x 40,000) nano = $0.028; x 1.5.
    assert estimate_hold(parse_message_request(body, CATALOG), MARKUP_BP, cached_tokens=0, at=NOW).nano == 42_000_000


def test_a_later_turn_that_changed_an_earlier_message_is_not_held_as_cache_reads() -> None:
    """Issue 13 review: the same first message is not the same conversation prefix. A turn that
    replaced a later message writes it to the cache again; holding it as reads let it overdraw."""
    history = PromptHistory(clock=lambda: 1000.0)
    marker = {"type": "ephemeral"}

    def turn(*texts: str, marked: int) -> PromptShape:
        messages: list[dict[str, Any]] = [
            {"role": "user" if i % 2 == 0 else "assistant", "content": [{"type": "text", "text": text}]}
            for i, text in enumerate(texts)
        ]
        messages[marked]["content"][0]["cache_control"] = marker
        body = orjson.dumps({"model": "claude-opus-4-8", "max_tokens": 10, "stream": True, "messages": messages})
        shape = parse_message_request(body, CATALOG).shape
        assert shape is not None
        return shape

    first = turn("start", "ok", "a" * 4_000, marked=2)
    history.remember("key", first, cache_read_tokens=0, cache_write_tokens=1_000)
    # The next turn repeats the three messages (its marker moved to the newest one): a cache read.
    assert history.cached_tokens("key", turn("start", "ok", "a" * 4_000, "done", "next", marked=4)) == 1_000
    # A turn with the same first message but a different third one: a miss, held as a write.
    assert history.cached_tokens("key", turn("start", "ok", "b" * 4_000, marked=2)) == 0


def test_a_prompt_nested_too_deep_to_hash_is_held_as_fresh_input_and_never_fails() -> None:
    # orjson reads 1,024 levels but writes 255: the conversation cannot be fingerprinted, so it gets
    # no cache-read credit (a larger hold) - and hashing, which now runs after the send, never raises.
    deep = b"[" * 600 + b"1" + b"]" * 600
    system = b'[{"type":"text","text":"s","cache_control":{"type":"ephemeral","ttl":"5m"}}]'
    body = (
        b'{"model":"claude-opus-4-8","max_tokens":10,"stream":true,"system":' + system + b',"messages":'
        b'[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x","extra":' + deep + b"}]}]}"
    )
    shape = parse_message_request(body, CATALOG).shape
    assert shape is not None
    history = PromptHistory(clock=lambda: 1000.0)
    history.remember("key_a", shape, cache_read_tokens=0, cache_write_tokens=2_000)
    assert history.cached_tokens("key_a", shape) == 0
