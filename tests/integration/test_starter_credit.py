"""A Claude Code-shaped session on a fresh $2 account: turns that re-send a growing conversation with
1-hour cache breakpoints (so the cache-faithful emulator bills them mostly as cache reads, as the API
does) run until the first 402. The hold estimate must leave at least 90% of the credit spendable,
and the balance must never pass minus the overdraft limit."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.stack import RunningStack

MODEL = "claude-opus-4-8"
STARTER_NANO = 2_000_000_000
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
ANSWER = "I read the file and will now run the tests. " * 30  # ~1,300 characters of output a turn


def _tools() -> list[dict[str, Any]]:
    return [
        {
            "name": f"tool_{index}",
            "description": f"Tool number {index}. " * 40,
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
        }
        for index in range(30)
    ]


def _turn_body(history: list[dict[str, Any]]) -> bytes:
    messages = [dict(message) for message in history]
    last = dict(messages[-1])
    last["content"] = [dict(block) for block in last["content"]]
    last["content"][-1]["cache_control"] = ONE_HOUR
    messages[-1] = last
    return orjson.dumps(
        {
            "model": MODEL,
            "max_tokens": 32_000,
            "stream": True,
            "system": [
                {"type": "text", "text": "You are Claude Code."},
                {"type": "text", "text": "Follow the repository's conventions. " * 300, "cache_control": ONE_HOUR},
            ],
            "tools": _tools(),
            "messages": messages,
        }
    )


def test_a_cached_agent_session_spends_at_least_90_percent_of_the_starter_credit(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    history: list[dict[str, Any]] = [{"role": "user", "content": [{"type": "text", "text": "Fix the failing test."}]}]
    lowest_nano, turns = STARTER_NANO, 0
    headers = {"x-api-key": caller.api_key, "anthropic-version": "2023-06-01", "x-emulator-text": ANSWER.strip()}
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        for turns in range(1, 400):
            with client.stream("POST", "/v1/messages", content=_turn_body(history), headers=headers) as response:
                response.read()
            if response.status_code == 402:
                break
            assert response.status_code == 200, response.text
            account = store.accounts.get(caller.account.account_id)
            assert account is not None
            lowest_nano = min(lowest_nano, account.balance_nano)
            tool_output = f"test output line {turns}\n" * 250  # ~6 KB of tool result a turn
            history += [
                {"role": "assistant", "content": [{"type": "text", "text": ANSWER}]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": f"t{turns}", "content": tool_output}],
                },
            ]
    spent_share = (STARTER_NANO - lowest_nano) / STARTER_NANO
    print(f"{turns - 1} turns before the first 402; spent {spent_share:.1%} of the starter credit")
    assert response.status_code == 402, f"no 402 after {turns} turns"
    assert spent_share >= 0.90
    assert lowest_nano >= -500_000_000
    records = store.usage.requests(account_id=caller.account.account_id, limit=1000).records
    assert records and sum(record.cache_read_input_tokens for record in records) > sum(
        record.input_tokens for record in records
    ), "the emulator should bill these turns mostly as cache reads"
