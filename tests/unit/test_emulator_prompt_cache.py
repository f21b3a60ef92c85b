"""The emulator's prompt cache reports what the Messages API would: the prefix up to each
`cache_control` breakpoint written on the first request, read on later ones within its TTL."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from codegateway.dev.emulator_script import validate
from codegateway.dev.prompt_cache import CacheUsage, PromptCache, block_tokens, count_input_tokens

SCOPE = "key-a:claude-opus-4-8"
BIG = "You are a careful coding agent. " * 200  # ~1,600 stand-in tokens: over the 1,024 minimum


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _payload(*user_turns: str, system_ttl: str | None = None, cache_last: bool = False, **extra: Any) -> dict[str, Any]:
    control: dict[str, Any] = {"type": "ephemeral"} if system_ttl is None else {"type": "ephemeral", "ttl": system_ttl}
    messages: list[dict[str, Any]] = []
    for number, text in enumerate(user_turns):
        messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        if number < len(user_turns) - 1:
            messages.append({"role": "assistant", "content": f"answer {number}"})
    if cache_last:
        messages[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
    return {
        "model": "claude-opus-4-8",
        "max_tokens": 100,
        "system": [{"type": "text", "text": BIG, "cache_control": control}],
        "messages": messages,
        **extra,
    }


def _total(usage: CacheUsage) -> int:
    return usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens


def test_tokens_are_a_quarter_of_the_blocks_canonical_json_without_cache_control() -> None:
    block = {"type": "text", "text": "héllo", "cache_control": {"type": "ephemeral"}}
    assert block_tokens(block) == math.ceil(len(orjson.dumps({"text": "héllo", "type": "text"})) / 4)
    assert block_tokens(block) == block_tokens({"text": "héllo", "type": "text"})


def test_first_request_writes_the_system_prefix_and_the_second_reads_it() -> None:
    cache, payload = PromptCache(Clock()), _payload("fix the bug")
    system_tokens = block_tokens(payload["system"][0])
    first = cache.use(payload, SCOPE)
    assert first.ephemeral_5m_input_tokens == system_tokens and first.cache_read_input_tokens == 0
    assert first.ephemeral_1h_input_tokens == 0
    second = cache.use(payload, SCOPE)
    assert second.cache_read_input_tokens == system_tokens and second.cache_creation_input_tokens == 0
    assert first.input_tokens == second.input_tokens == count_input_tokens(payload) - system_tokens
    assert _total(first) == _total(second) == count_input_tokens(payload)


def test_a_5m_entry_expires_after_five_minutes_unless_a_read_refreshed_it() -> None:
    clock = Clock()
    cache, payload = PromptCache(clock), _payload("hi")
    cache.use(payload, SCOPE)
    clock.now += 299
    assert cache.use(payload, SCOPE).cache_read_input_tokens > 0  # read at 299 s: lives until 599 s
    clock.now += 299
    assert cache.use(payload, SCOPE).cache_read_input_tokens > 0
    clock.now += 301
    expired = cache.use(payload, SCOPE)
    assert expired.cache_read_input_tokens == 0 and expired.ephemeral_5m_input_tokens > 0


def test_a_1h_breakpoint_is_written_as_1h_and_still_read_after_fifty_minutes() -> None:
    clock = Clock()
    cache, payload = PromptCache(clock), _payload("hi", system_ttl="1h")
    first = cache.use(payload, SCOPE)
    assert first.ephemeral_1h_input_tokens == block_tokens(payload["system"][0])
    assert first.ephemeral_5m_input_tokens == 0
    clock.now += 50 * 60
    assert cache.use(payload, SCOPE).cache_read_input_tokens == first.ephemeral_1h_input_tokens
    clock.now += 60 * 60 + 1
    assert cache.use(payload, SCOPE).cache_read_input_tokens == 0


def test_the_next_turn_reads_the_previous_turns_prefix_and_writes_only_the_new_part() -> None:
    # Claude Code marks the system prompt and the newest message; each turn moves the second mark.
    cache = PromptCache(Clock())
    turn_1 = _payload("read main.py", cache_last=True)
    turn_2 = _payload("read main.py", "now fix it", cache_last=True)
    first = cache.use(turn_1, SCOPE)
    turn_1_prefix = count_input_tokens(turn_1)
    assert first.cache_creation_input_tokens == turn_1_prefix and first.input_tokens == 0
    second = cache.use(turn_2, SCOPE)
    assert second.cache_read_input_tokens == turn_1_prefix
    assert second.ephemeral_5m_input_tokens == count_input_tokens(turn_2) - turn_1_prefix
    assert second.input_tokens == 0
    assert _total(second) == count_input_tokens(turn_2)


@pytest.mark.parametrize(
    ("change", "scope"),
    [
        ({"tools": [{"name": "bash", "input_schema": {"type": "object"}}]}, SCOPE),  # tools come first
        ({}, "key-a:claude-sonnet-4-6"),  # another model
        ({}, "key-b:claude-opus-4-8"),  # another organisation's key
    ],
    ids=["tool-added-before-system", "other-model", "other-key"],
)
def test_a_different_prefix_model_or_key_does_not_read_the_cache(change: dict[str, Any], scope: str) -> None:
    cache = PromptCache(Clock())
    cache.use(_payload("hi"), SCOPE)
    other = cache.use(_payload("hi", **change), scope)
    assert other.cache_read_input_tokens == 0 and other.cache_creation_input_tokens > 0


def test_a_prefix_under_the_minimum_is_never_cached() -> None:
    cache = PromptCache(Clock())
    payload = _payload("hi")
    payload["system"][0]["text"] = "short system prompt"
    for _ in range(2):
        usage = cache.use(payload, SCOPE)
        assert usage.cache_creation_input_tokens == usage.cache_read_input_tokens == 0
        assert usage.input_tokens == count_input_tokens(payload)


def test_a_request_without_breakpoints_is_all_input() -> None:
    cache, payload = PromptCache(Clock()), _payload("hi")
    del payload["system"][0]["cache_control"]
    for _ in range(2):
        assert cache.use(payload, SCOPE) == CacheUsage(input_tokens=count_input_tokens(payload))


def test_a_1h_then_a_5m_breakpoint_split_the_write_by_ttl() -> None:
    cache = PromptCache(Clock())
    payload = _payload("x" * 8000, system_ttl="1h", cache_last=True)
    usage = cache.use(payload, SCOPE)
    assert usage.ephemeral_1h_input_tokens == block_tokens(payload["system"][0])
    assert usage.ephemeral_5m_input_tokens == count_input_tokens(payload) - usage.ephemeral_1h_input_tokens


def test_more_than_four_breakpoints_is_the_apis_400() -> None:
    payload = _payload("a")
    payload["tools"] = [
        {"name": f"t{n}", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}} for n in range(4)
    ]
    assert validate(payload) == "A maximum of 4 blocks with cache_control may be provided. Found 5."
    payload["tools"].pop()
    assert validate(payload) is None
