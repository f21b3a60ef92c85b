"""Holes a hostile key holder can use against the overdraft bound, found in review of the money path
(issue 13). Each test states the hole; an xfail(strict) one is a hole not fixed yet - it turns into a
failure (XPASS) the day it is, so the marker comes off with the fix."""

from __future__ import annotations

import httpx
import orjson
import pytest

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.money import money, sse_events, usage_records, usd
from tests.support.stack import RunningStack

OVERDRAFT_NANO = 500_000_000
PROMPT_TOKENS = 150_000


def _turn(stack: RunningStack, api_key: str, last_message: str, usage: str) -> httpx.Response:
    body = {
        "model": "claude-opus-4-8",
        "max_tokens": 4_096,
        "stream": True,
        "system": [{"type": "text", "text": "You are a coding agent."}],
        "messages": [
            {"role": "user", "content": "Let us work on the repository."},
            {"role": "assistant", "content": "Sure."},
            {
                "role": "user",
                "content": [{"type": "text", "text": last_message, "cache_control": {"type": "ephemeral"}}],
            },
        ],
    }
    return httpx.post(
        f"{stack.base_url}/v1/messages",
        content=orjson.dumps(body),
        headers={"x-api-key": api_key, "anthropic-version": "2023-06-01", "x-emulator-usage": usage},
        timeout=60,
    )


def _cache_miss_after_a_cached_turn(
    stack: RunningStack, store: Store, stack_settings: Settings, second_message: str
) -> tuple[int, int, list[str]]:
    """Turn 1 writes a 600 KB prompt (150,000 tokens) to the cache (held and billed ~$1.41); turn 2
    is reported by the upstream as writing it all again. (balance after turn 1, after turn 2, turn
    2's SSE error types)."""
    caller = new_caller(store, stack_settings)
    account_id = caller.account.account_id
    writes = f"input=10,output=10,cache_write_5m={PROMPT_TOKENS}"
    first = _turn(stack, caller.api_key, "a" * (4 * PROMPT_TOKENS), writes)
    assert first.status_code == 200
    after_first = money(store, account_id)
    second = _turn(stack, caller.api_key, second_message, writes)
    errors = [data["error"]["type"] for name, data in sse_events(second.content) if name == "error"]
    after = money(store, account_id)
    records = sorted(usage_records(store, account_id), key=lambda record: record.created_at)
    print(
        f"\ncache miss after a cached turn: balance after turn 1 {usd(after_first.balance_nano)}; turn 2 "
        f"{second.status_code} errors {errors}, billed {usd(records[-1].billed_nano) if len(records) > 1 else '-'}; "
        f"balance {usd(after.balance_nano)} (limit -$0.50)"
    )
    assert after.available_nano == after.balance_nano
    return after_first.balance_nano, after.balance_nano, errors


def test_a_turn_that_changed_a_later_message_is_held_as_a_cache_write(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    """Fixed: the same first message, a different 600 KB last message. The history trusted the
    first message only and held the turn as 150,000 cache reads ($0.11) while the API wrote it all
    again ($1.41): balance -$0.81 on a $2 account. Now a turn is held as reads only when it repeats
    every message of the turn that cached them: it is held as a write, and refused (402)."""
    _, balance, _ = _cache_miss_after_a_cached_turn(stack, store, stack_settings, "b" * (4 * PROMPT_TOKENS))
    assert balance >= -OVERDRAFT_NANO


@pytest.mark.xfail(
    strict=True,
    reason="not fixed: a turn that repeats the cached prompt exactly is held as cache reads; if the API "
    "evicted the cache early (it is best effort) it is billed as writes, ~12x its hold, and the input is "
    "spent before any stream can be cut. A hold sized for the worst case would strand most of the credit "
    "(issue 13, item 3): a design decision for the lead",
)
def test_an_evicted_cache_cannot_overdraw_past_the_limit(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    _, balance, _ = _cache_miss_after_a_cached_turn(stack, store, stack_settings, "a" * (4 * PROMPT_TOKENS))
    assert balance >= -OVERDRAFT_NANO
