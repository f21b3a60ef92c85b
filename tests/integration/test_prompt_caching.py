"""Prompt caching through the real local stack: the anthropic SDK sends a cached system prompt
twice; the bundled emulator writes it on the first turn and reads it on the second, and the
gateway bills the second turn at the cache-read price."""

from __future__ import annotations

import uuid
from decimal import Decimal

import anthropic
import httpx

from codegateway.dev.prompt_cache import block_tokens
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.stack import RunningStack


def test_a_cached_system_prompt_is_written_once_then_read_and_the_second_turn_costs_less(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    client = anthropic.Anthropic(base_url=stack.base_url, api_key=caller.api_key, max_retries=0)
    # Unique text: every test shares the emulator (and its cache) through the gateway's one upstream key.
    system_block = {
        "type": "text",
        "text": f"Session {uuid.uuid4()}. You are a careful coding agent. " * 120,
        "cache_control": {"type": "ephemeral"},
    }
    cached_tokens = block_tokens(system_block)
    usages = []
    for _ in range(2):
        with client.messages.stream(
            model="claude-opus-4-8",
            max_tokens=200,
            system=[system_block],  # type: ignore[list-item]
            messages=[{"role": "user", "content": "list the files"}],
        ) as stream:
            usages.append(stream.get_final_message().usage)
    first, second = usages
    assert first.cache_creation_input_tokens == cached_tokens and first.cache_read_input_tokens == 0
    assert first.cache_creation is not None and first.cache_creation.ephemeral_5m_input_tokens == cached_tokens
    assert second.cache_read_input_tokens == cached_tokens and second.cache_creation_input_tokens == 0
    assert first.input_tokens == second.input_tokens

    rows = httpx.get(
        f"{stack.base_url}/v1/account/usage", headers={"x-api-key": caller.api_key}, params={"limit": "10"}
    ).json()["data"][::-1]
    assert [row["cache_creation_input_tokens"] for row in rows] == [cached_tokens, 0]
    assert [row["cache_read_input_tokens"] for row in rows] == [0, cached_tokens]
    first_cost, second_cost = (Decimal(row["cost_usd"]) for row in rows)
    # Opus 4.8: a 5-minute write is 1.25x the input price, a read 0.1x, so the read turn is far cheaper.
    assert second_cost < first_cost / 4
