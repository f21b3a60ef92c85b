"""Long sessions that do not drop: retries, keepalive, timeouts, rate limits, failing closed."""

from __future__ import annotations

import concurrent.futures
import itertools
import time
import uuid
from collections.abc import Iterator

import anthropic
import httpx
import pytest

from codegateway.dev.emulator_script import DEFAULT_TEXT
from codegateway.dev.processes import free_port, start_python_module, stop, wait_until_ready
from codegateway.domain.sse import SseParser
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from tests.support.accounts import new_caller
from tests.support.requests import message_body
from tests.support.stack import RunningStack, start_stack
from tests.support.windows import wait_for_fresh_minute


def _post(stack: RunningStack, api_key: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/v1/messages", content=message_body(), headers={"x-api-key": api_key, **headers}, timeout=90
    )


def test_one_529_is_absorbed_by_the_retry(stack: RunningStack) -> None:
    scenario = uuid.uuid4().hex
    response = _post(
        stack,
        stack.api_key,
        **{"x-emulator-status": "529", "x-emulator-fail-times": "1", "x-emulator-scenario": scenario},
    )
    assert response.status_code == 200
    assert b"event: message_stop" in response.content
    assert len(stack.emulator_requests(scenario)) == 2


def test_persistent_529_reaches_the_client_after_exactly_two_attempts(stack: RunningStack) -> None:
    scenario = uuid.uuid4().hex
    response = _post(stack, stack.api_key, **{"x-emulator-status": "529", "x-emulator-scenario": scenario})
    assert response.status_code == 529
    assert response.json()["error"]["type"] == "overloaded_error"
    assert len(stack.emulator_requests(scenario)) == 2


@pytest.mark.parametrize("status", ["500", "400"])
def test_statuses_outside_the_retry_list_are_not_retried(stack: RunningStack, status: str) -> None:
    scenario = uuid.uuid4().hex
    response = _post(stack, stack.api_key, **{"x-emulator-status": status, "x-emulator-scenario": scenario})
    assert response.status_code == int(status)
    assert len(stack.emulator_requests(scenario)) == 1


def test_reset_after_the_first_byte_becomes_an_sse_error_and_is_not_retried(stack: RunningStack) -> None:
    scenario = uuid.uuid4().hex
    response = _post(stack, stack.api_key, **{"x-emulator-reset-after-events": "3", "x-emulator-scenario": scenario})
    assert response.status_code == 200
    events = SseParser().feed(response.content)
    assert events[0].name == "message_start"
    assert events[-1].name == "error" and b'"api_error"' in events[-1].data
    assert len(stack.emulator_requests(scenario)) == 1


def test_thirty_seconds_of_upstream_silence_never_leaves_the_client_waiting(stack: RunningStack) -> None:
    """Default keepalive (10 s): the longest gap between bytes stays under 12 s, and the SDK still
    reads the whole message from the same kind of stream."""
    silence = {"x-emulator-silence-ms": "30000", "x-emulator-silence-after-events": "4"}

    def gaps_over_raw_http() -> tuple[float, bytes]:
        arrivals, body = [time.monotonic()], b""
        with httpx.stream(
            "POST",
            f"{stack.base_url}/v1/messages",
            content=message_body(),
            headers={"x-api-key": stack.api_key, **silence},
            timeout=90,
        ) as response:
            for chunk in response.iter_raw():
                arrivals.append(time.monotonic())
                body += chunk
        return max(b - a for a, b in itertools.pairwise(arrivals)), body

    def text_through_the_sdk() -> str:
        client = anthropic.Anthropic(base_url=stack.base_url, api_key=stack.api_key, max_retries=0, timeout=90)
        with client.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=100,
            extra_headers=silence,
            messages=[{"role": "user", "content": "think a while"}],
        ) as stream:
            return stream.get_final_text()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        raw = pool.submit(gaps_over_raw_http)
        sdk = pool.submit(text_through_the_sdk)
        longest_gap, body = raw.result()
        assert sdk.result() == DEFAULT_TEXT
    assert longest_gap <= 12.0, f"the client waited {longest_gap:.1f} s for a byte"
    events = SseParser().feed(body)
    assert [event.name for event in events].count("ping") >= 3  # the emulator's own one plus ours
    assert events[-1].name == "message_stop"


def test_rpm_cap_refuses_the_sixth_request_with_retry_after(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=5)
    wait_for_fresh_minute()
    for _ in range(3):  # count_tokens is free: it does not use up the cap
        counted = httpx.post(
            f"{stack.base_url}/v1/messages/count_tokens",
            content=b'{"model":"claude-haiku-4-5","messages":[]}',
            headers={"x-api-key": caller.api_key},
        )
        assert counted.status_code == 200
    assert [_post(stack, caller.api_key).status_code for _ in range(5)] == [200] * 5
    refused = _post(stack, caller.api_key)
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    retry_after = refused.headers["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60
    assert refused.headers["x-should-retry"] == "true"


@pytest.fixture(scope="module")
def second_gateway(stack: RunningStack) -> Iterator[RunningStack]:
    """Another gateway process (its own emulator) on the first stack's DynamoDB."""
    other = start_stack(args=["--dynamodb-endpoint", stack.dynamodb_endpoint])
    yield other
    other.stop()


def test_two_gateway_processes_enforce_one_cap(
    stack: RunningStack, second_gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=5)
    wait_for_fresh_minute()
    statuses = [_post(gateway, caller.api_key).status_code for gateway in [stack, second_gateway] * 3]
    assert statuses == [200, 200, 200, 200, 200, 429]


@pytest.fixture(scope="module")
def short_limits() -> Iterator[RunningStack]:
    """A stack with test-shortened limits: first byte 1.5 s, whole response 4 s, keepalive 1 s."""
    running = start_stack(
        extra_env={"CGW_FIRST_BYTE_TIMEOUT_S": "1.5", "CGW_TOTAL_TIMEOUT_S": "4", "CGW_KEEPALIVE_INTERVAL_S": "1"}
    )
    yield running
    running.stop()


def _short_store(stack: RunningStack) -> tuple[Store, Settings]:
    settings = Settings(dynamodb_endpoint=stack.dynamodb_endpoint)
    return build_store(settings), settings


def test_first_byte_later_than_the_limit_is_a_504_and_is_metered(short_limits: RunningStack) -> None:
    store, settings = _short_store(short_limits)
    caller = new_caller(store, settings)
    response = _post(short_limits, caller.api_key, **{"x-emulator-first-byte-delay-ms": "3000"})
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "timeout_error"
    (record,) = store.usage.requests(account_id=caller.account.account_id).records
    assert (record.status, record.ended, record.billed_nano) == (504, "upstream_failed", 0)
    account = store.accounts.get(caller.account.account_id)
    assert account is not None and account.available_nano == account.balance_nano  # hold released


def test_total_limit_mid_stream_ends_with_an_sse_timeout_error_and_is_metered(short_limits: RunningStack) -> None:
    store, settings = _short_store(short_limits)
    caller = new_caller(store, settings)
    response = _post(
        short_limits,
        caller.api_key,
        **{"x-emulator-event-delay-ms": "700", "x-emulator-deltas": "12", "x-emulator-usage": "input=4321,output=60"},
    )
    assert response.status_code == 200
    events = SseParser().feed(response.content)
    assert events[-1].name == "error" and b'"timeout_error"' in events[-1].data
    (record,) = store.usage.requests(account_id=caller.account.account_id).records
    assert (record.ended, record.error_type, record.input_tokens) == ("timeout", "timeout_error", 4321)
    assert record.billed_nano > 0


def test_keepalive_pings_land_only_between_events(short_limits: RunningStack) -> None:
    response = _post(
        short_limits, short_limits.api_key, **{"x-emulator-silence-ms": "3500", "x-emulator-silence-after-events": "3"}
    )
    parser = SseParser()
    events = parser.feed(response.content)
    assert parser.at_event_boundary
    names = [event.name for event in events]
    assert names.count("ping") >= 1 + 2  # the emulator's own ping, then ours during the silence
    assert names[-1] == "message_stop"
    assert all(event.data for event in events)  # every event whole: nothing was injected mid-event


def test_dynamodb_down_means_503_and_nothing_reaches_the_upstream() -> None:
    port = free_port()
    dynamodb = start_python_module(["codegateway.dev.dynamodb_server", "--port", str(port)])
    endpoint = f"http://127.0.0.1:{port}"
    wait_until_ready(endpoint + "/moto-api/", dynamodb)
    gateway = start_stack(args=["--dynamodb-endpoint", endpoint])
    try:
        assert _post(gateway, gateway.api_key).status_code == 200
        stop(dynamodb)
        time.sleep(1.1)  # past the record cache: the next request must ask DynamoDB
        scenario = uuid.uuid4().hex
        response = _post(gateway, gateway.api_key, **{"x-emulator-scenario": scenario})
        assert response.status_code == 503
        assert "key store" in response.json()["error"]["message"]
        assert gateway.emulator_requests(scenario) == []
    finally:
        gateway.stop()
        stop(dynamodb)
