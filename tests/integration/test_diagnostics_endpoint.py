"""GET /v1/diagnostics/stream: authenticated with the caller's key, free (never charged, held, metered or
counted against the key's RPM), bounded, capped per key; it answers at once, pings while idle, then `done`."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest

from codegateway.domain.sse import SseParser
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.stack import FAST_KEEPALIVE_S, RunningStack, StackWithStore
from tests.support.windows import wait_for_fresh_minute


def _stream(
    base_url: str, api_key: str | None, idle_s: str = "0"
) -> tuple[httpx.Response, list[tuple[str, dict[str, Any]]], list[float]]:
    headers = {"x-api-key": api_key} if api_key else {}
    events: list[tuple[str, dict[str, Any]]] = []
    arrivals: list[float] = []
    parser = SseParser()
    with httpx.stream(
        "GET", f"{base_url}/v1/diagnostics/stream", params={"idle_s": idle_s}, headers=headers, timeout=30
    ) as response:
        if response.status_code != 200:
            response.read()
            return response, events, arrivals
        for chunk in response.iter_raw():
            arrivals.append(time.monotonic())
            events += [(event.name, orjson.loads(event.data)) for event in parser.feed(chunk)]
    return response, events, arrivals


def test_the_stream_needs_the_callers_key(stack: RunningStack) -> None:
    response, _, _ = _stream(stack.base_url, None)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    response, _, _ = _stream(stack.base_url, stack.api_key[:-3] + "xyz")
    assert response.status_code == 401


@pytest.mark.parametrize("idle_s", ["121", "-1", "soon"])
def test_idle_seconds_are_bounded(stack: RunningStack, idle_s: str) -> None:
    response, _, _ = _stream(stack.base_url, stack.api_key, idle_s)
    assert response.status_code == 400
    assert "idle_s" in response.json()["error"]["message"]


def test_the_stream_is_free_never_charged_held_metered_or_counted(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    wait_for_fresh_minute()
    caller = new_caller(store, stack_settings)
    before = store.accounts.get(caller.account.account_id)
    assert before is not None
    starts = []
    for _ in range(3):
        response, events, _ = _stream(stack.base_url, caller.api_key)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        assert [name for name, _ in events] == ["diagnostics_start", "done"]
        starts.append(events[0][1])
    after = store.accounts.get(caller.account.account_id)
    assert after is not None
    assert (after.balance_nano, after.available_nano) == (before.balance_nano, before.available_nano)
    assert store.usage.requests(account_id=caller.account.account_id).records == []
    # The key's own RPM window is untouched by diagnostics streams.
    assert [start["rpm_used"] for start in starts] == [0, 0, 0]
    assert starts[0]["rpm_limit"] == stack_settings.default_rpm_limit


def test_streams_are_capped_per_key(stack: RunningStack, store: Store, stack_settings: Settings) -> None:
    wait_for_fresh_minute()
    capped, other = new_caller(store, stack_settings), new_caller(store, stack_settings)
    cap = stack_settings.diagnostics_streams_per_minute
    statuses = [_stream(stack.base_url, capped.api_key)[0].status_code for _ in range(cap + 1)]
    assert statuses == [200] * cap + [429]
    refused, _, _ = _stream(stack.base_url, capped.api_key)
    assert int(refused.headers["retry-after"]) <= 60
    assert _stream(stack.base_url, other.api_key)[0].status_code == 200


def test_an_idle_stream_carries_only_keepalive_pings_then_done(fast_stack: StackWithStore) -> None:
    caller = fast_stack.caller()
    started = time.monotonic()
    response, events, arrivals = _stream(fast_stack.running.base_url, caller.api_key, "1.5")
    assert response.status_code == 200
    names = [name for name, _ in events]
    assert names[0] == "diagnostics_start" and names[-1] == "done"
    assert set(names[1:-1]) == {"ping"} and len(names) - 2 >= 3
    assert events[0][1]["keepalive_interval_s"] == FAST_KEEPALIVE_S
    assert events[-1][1] == {"type": "done", "idle_s": 1.5, "pings": len(names) - 2}
    assert arrivals[-1] - started >= 1.5
