"""Money through the real proxy in front of a scripted raw upstream (tests/support/scripted_upstream.py):
usage the bundled emulator cannot report - cache writes only in message_delta, fast-mode speed only
in message_delta."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.money import money, sse_events, usage_records, usd
from tests.support.scripted_upstream import Script, ScriptedUpstream, message_end, message_start, text_block
from tests.support.stack import RunningStack, start_stack

OVERDRAFT_NANO = 500_000_000


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def gateway(stack: RunningStack, scripted: ScriptedUpstream) -> Iterator[RunningStack]:
    """A second proxy on the same DynamoDB, forwarding to the scripted upstream."""
    running = start_stack(
        extra_env={"CGW_UPSTREAM_API_KEY": "sk-ant-scripted"},
        args=["--upstream", scripted.url, "--dynamodb-endpoint", stack.dynamodb_endpoint],
    )
    yield running
    running.stop()


def _post(gateway: RunningStack, api_key: str, script: str, **fields: object) -> httpx.Response:
    body = {
        "model": "claude-opus-4-8",
        "max_tokens": 32_000,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        **fields,
    }
    return httpx.post(
        f"{gateway.base_url}/v1/messages",
        content=orjson.dumps(body),
        headers={"x-api-key": api_key, "anthropic-version": "2023-06-01", "x-script": script},
        timeout=60,
    )


def test_cache_writes_reported_only_in_message_delta_are_billed(
    gateway: RunningStack, scripted: ScriptedUpstream, store: Store, stack_settings: Settings
) -> None:
    start_usage = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 1,
    }
    scripted.scripts["late-cache-writes"] = Script(
        [
            message_start(start_usage),
            *text_block(["Hello", " there"]),
            *message_end({"output_tokens": 100, "cache_creation_input_tokens": 50_000}),
        ]
    )
    caller = new_caller(store, stack_settings)
    response = _post(gateway, caller.api_key, "late-cache-writes")
    assert response.status_code == 200, response.text
    (record,) = usage_records(store, caller.account.account_id)
    after = money(store, caller.account.account_id)
    print(
        f"\nlate cache writes: record cache_creation={record.cache_creation_input_tokens} "
        f"5m={record.cache_write_5m_tokens} 1h={record.cache_write_1h_tokens} billed {usd(record.billed_nano)}"
    )
    assert (record.cache_creation_input_tokens, record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (
        50_000,
        50_000,
        0,
    )
    # (10 x $5 + 50,000 x $6.25 + 100 x $25) / 1M x 1.5 = $0.472575
    assert record.billed_nano == 472_575_000
    assert after.balance_nano == after.available_nano == 2_000_000_000 - 472_575_000


def test_fast_mode_reported_only_at_the_end_still_stays_within_the_overdraft_limit(
    gateway: RunningStack, scripted: ScriptedUpstream, store: Store, stack_settings: Settings
) -> None:
    """A request asking for fast mode (twice the price) whose upstream says `speed: fast` only in
    message_delta: the hold must grow at the fast price from the start, or the stream runs to
    twice what the overdraft limit allows."""
    tokens = 16_000  # 1,000 deltas of 48 characters (16 tokens each)
    scripted.scripts["fast-late"] = Script(
        [
            message_start({"input_tokens": 10, "output_tokens": 1}),
            *text_block(["x" * 48] * (tokens // 16)),
            *message_end({"output_tokens": tokens, "speed": "fast"}),
        ]
    )
    small = stack_settings.model_copy(update={"starter_credit_nano": 200_000_000})  # $0.20
    caller = new_caller(store, small)
    # Opus 5.5 serves fast at 2x (Opus 4.8 refuses it: pricing.md).
    response = _post(gateway, caller.api_key, "fast-late", speed="fast", model="claude-opus-5-5")
    assert response.status_code == 200
    errors = [data for name, data in sse_events(response.content) if name == "error"]
    (record,) = usage_records(store, caller.account.account_id)
    after = money(store, caller.account.account_id)
    print(
        f"\nfast mode reported late: ended={record.ended} output={record.output_tokens} speed={record.speed} "
        f"billed {usd(record.billed_nano)}; balance {usd(after.balance_nano)}; errors {errors}"
    )
    assert after.balance_nano >= -OVERDRAFT_NANO
    assert after.available_nano == after.balance_nano and after.hold_count == 0
    # Cut for balance, and charged at the fast price it ran at (not half of it).
    assert record.ended == "balance_exhausted"
    assert errors and errors[-1]["error"]["type"] == "billing_error"
    assert record.speed == "fast"
    # 10 x $8 + output x $40 per MTok (Opus 5.5 fast), x 1.5, rounded up once
    assert record.billed_nano == -(-(10 * 8_000 + record.output_tokens * 40_000) * 3 // 2)


def test_a_burst_of_output_in_one_read_is_cut_within_the_overdraft_limit_at_an_event_boundary(
    gateway: RunningStack, scripted: ScriptedUpstream, store: Store, stack_settings: Settings
) -> None:
    """24,000 tokens ($0.90) written at once (the proxy reads them in a few large chunks, as after a stall):
    the budget is asked every few events, not once a chunk, so the cut comes within the hold's
    margin, and at an event boundary (every event the client got parses)."""
    scripted.scripts["burst"] = Script(
        [
            message_start({"input_tokens": 10, "output_tokens": 1}),
            *text_block(["y" * 48] * 1_500),
            *message_end({"output_tokens": 24_000}),
        ]
    )
    small = stack_settings.model_copy(update={"starter_credit_nano": 200_000_000})  # $0.20
    caller = new_caller(store, small)
    response = _post(gateway, caller.api_key, "burst")
    events = sse_events(response.content)  # raises if any event was cut in half
    (record,) = usage_records(store, caller.account.account_id)
    after = money(store, caller.account.account_id)
    print(
        f"\nburst: {len(events)} events relayed, ended={record.ended} output={record.output_tokens} "
        f"billed {usd(record.billed_nano)}; balance {usd(after.balance_nano)}"
    )
    assert events[-1][0] == "error" and events[-1][1]["error"]["type"] == "billing_error"
    assert record.ended == "balance_exhausted"
    assert -OVERDRAFT_NANO <= after.balance_nano == after.available_nano


def test_non_ascii_output_is_counted_at_its_real_rate_and_stays_within_the_limit(
    gateway: RunningStack, scripted: ScriptedUpstream, store: Store, stack_settings: Settings
) -> None:
    """A hostile key holder asks for Chinese output: about a token a character, where the running
    estimate counted a token per 3 characters - the hold grew at a third of the real cost, and the
    stream ran to three times what the overdraft limit allows (or, cut, was billed a third)."""
    chunk = "数据库事务隔离级别决定并发读写冲突"[:16]  # 16 characters, ~16 tokens
    scripted.scripts["cjk"] = Script(
        [
            message_start({"input_tokens": 10, "output_tokens": 1}),
            *text_block([chunk] * 1_500),
            *message_end({"output_tokens": 24_000}),
        ],
        delays_s=[0.0] * 3 + [0.0005] * 1_500 + [0.0] * 3,
    )
    small = stack_settings.model_copy(update={"starter_credit_nano": 200_000_000})  # $0.20
    caller = new_caller(store, small)
    response = _post(gateway, caller.api_key, "cjk")
    events = sse_events(response.content)
    shown = sum(len(data["delta"].get("text", "")) for name, data in events if name == "content_block_delta")
    (record,) = usage_records(store, caller.account.account_id)
    after = money(store, caller.account.account_id)
    print(
        f"\nCJK output: {shown} characters shown, ended={record.ended} output={record.output_tokens} "
        f"billed {usd(record.billed_nano)}; balance {usd(after.balance_nano)}"
    )
    assert after.balance_nano >= -OVERDRAFT_NANO
    assert record.ended == "balance_exhausted"
    assert record.output_tokens >= shown  # charged at least a token per character shown


def test_an_answer_read_whole_is_charged_without_growing_its_hold(
    gateway: RunningStack, scripted: ScriptedUpstream, store: Store, stack_settings: Settings
) -> None:
    """The whole answer in one read (max_tokens as Claude Code sends it, far above the first hold): the
    budget is first asked after message_stop, its running cost past the hold's margin. Nothing more can
    stream, so no write grows the hold (it would be a DynamoDB write and a round trip before the stream
    ends); the charge is the same."""
    scripted.scripts["whole"] = Script(
        [
            message_start({"input_tokens": 10, "output_tokens": 1}),
            *text_block(["Hello", " there"]),
            *message_end({"output_tokens": 1_500}),
        ],
        in_one_write=True,
    )
    caller = new_caller(store, stack_settings)
    response = _post(gateway, caller.api_key, "whole")
    assert response.status_code == 200, response.text
    assert [name for name, _ in sse_events(response.content)][-1] == "message_stop"
    assert "hold_extensions" not in gateway.request_log_line(response.headers["request-id"])
    (record,) = usage_records(store, caller.account.account_id)
    assert record.billed_nano == 56_325_000  # (10 x $5 + 1,500 x $25) / 1M x 1.5
    after = money(store, caller.account.account_id)
    assert after.balance_nano == after.available_nano == 2_000_000_000 - 56_325_000 and after.hold_count == 0


def test_a_hold_that_covers_max_tokens_is_never_grown(
    gateway: RunningStack, scripted: ScriptedUpstream, store: Store, stack_settings: Settings
) -> None:
    """A short max_tokens is held whole at admission, and the API never streams past it: however the
    answer is read (here an event at a time), the hold needs no write to grow."""
    events = [
        message_start({"input_tokens": 10, "output_tokens": 1}),
        *text_block(["word "] * 30),
        *message_end({"output_tokens": 400}),
    ]
    scripted.scripts["short-max-tokens"] = Script(events, delays_s=[0.0] + [0.01] * (len(events) - 1))
    caller = new_caller(store, stack_settings)
    response = _post(gateway, caller.api_key, "short-max-tokens", max_tokens=400)
    assert response.status_code == 200, response.text
    assert "hold_extensions" not in gateway.request_log_line(response.headers["request-id"])
    (record,) = usage_records(store, caller.account.account_id)
    assert record.billed_nano == 15_075_000  # (10 x $5 + 400 x $25) / 1M x 1.5
