"""The proxy's store calls beside the ledger's, on the local DynamoDB: a key and account read and a key's
RPM count, made on the event loop itself (no worker thread), with the same answers as the blocking calls
the admin API and the CLI make: a revocation seen by the very next read, the count refused at the cap,
and a stopped DynamoDB refused as unavailable (a 503), never read as "no such key" (a 401)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from codegateway.accounts.keys import revoke_key
from codegateway.errors import StoreUnavailable
from codegateway.proxy.runtime import build_gateway
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from tests.support.accounts import new_caller


class NoWorkerThreads(concurrent.futures.ThreadPoolExecutor):
    """A default executor that refuses work: a call that hops to a worker thread fails the test."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        raise AssertionError(f"{getattr(fn, '__qualname__', fn)} went to a worker thread")


def on_the_loop_only[T](store_call: Callable[[], Awaitable[T]]) -> T:
    async def scenario() -> T:
        asyncio.get_running_loop().set_default_executor(NoWorkerThreads())
        return await store_call()

    return asyncio.run(scenario())


@pytest.fixture
def proxy_store(stack_settings: Settings) -> Store:
    """The store the proxy function builds."""
    return build_gateway(stack_settings).store


def test_the_proxys_reads_of_a_key_and_its_account_run_on_the_loop_and_match_the_blocking_reads(
    proxy_store: Store, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, top_up_usd=3)

    key = on_the_loop_only(lambda: proxy_store.api_keys.get_from_loop(caller.key_id))
    account = on_the_loop_only(lambda: proxy_store.accounts.get_from_loop(caller.account.account_id))

    assert key == store.api_keys.get(caller.key_id)
    assert key is not None and key.account_id == caller.account.account_id and not key.is_revoked
    assert account == store.accounts.get(caller.account.account_id)
    assert account is not None and account.balance_nano == 5_000_000_000  # the $2 starter credit and $3
    assert on_the_loop_only(lambda: proxy_store.api_keys.get_from_loop("0123456789abcdef")) is None
    assert on_the_loop_only(lambda: proxy_store.accounts.get_from_loop("acct_nobody")) is None


def test_a_revocation_is_seen_by_the_very_next_read_on_the_loop(
    proxy_store: Store, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    assert not on_the_loop_only(lambda: proxy_store.api_keys.get_from_loop(caller.key_id)).is_revoked  # type: ignore[union-attr]

    assert revoke_key(store, caller.key_id)

    record = on_the_loop_only(lambda: proxy_store.api_keys.get_from_loop(caller.key_id))
    assert record is not None and record.is_revoked


def test_a_keys_rpm_count_on_the_loop_counts_up_to_its_cap_and_refuses_past_it(
    proxy_store: Store, store: Store
) -> None:
    key_id, window_start = secrets.token_hex(8), 1_800_000_000

    def take() -> int | None:
        return on_the_loop_only(
            lambda: proxy_store.rate_limits.take_counted_from_loop(key_id, window_start, 2, window_start + 120)
        )

    assert [take(), take(), take()] == [1, 2, None]
    assert store.rate_limits.count(key_id, window_start) == 2  # the refused request was not counted
    assert store.rate_limits.count(key_id, window_start + 60) == 0  # the next window starts afresh


def test_with_dynamodb_stopped_a_call_on_the_loop_is_unavailable_not_an_unknown_key_or_a_refusal() -> None:
    stopped = build_store(Settings(dynamodb_endpoint="http://127.0.0.1:9"), loop_calls=True)
    with pytest.raises(StoreUnavailable):
        on_the_loop_only(lambda: stopped.api_keys.get_from_loop("0123456789abcdef"))
    with pytest.raises(StoreUnavailable):
        on_the_loop_only(lambda: stopped.accounts.get_from_loop("acct_0123456789abcdef"))
    with pytest.raises(StoreUnavailable):
        on_the_loop_only(lambda: stopped.rate_limits.take_counted_from_loop("0123456789abcdef", 0, 5, 120))


def test_the_other_stores_read_in_a_worker_thread(store: Store, stack_settings: Settings) -> None:
    """A store built without a loop client (the admin API's, the CLI's) keeps the loop free by calling
    DynamoDB off it."""
    caller = new_caller(store, stack_settings)
    with pytest.raises(AssertionError, match="went to a worker thread"):
        on_the_loop_only(lambda: store.api_keys.get_from_loop(caller.key_id))
    assert asyncio.run(store.api_keys.get_from_loop(caller.key_id)) == store.api_keys.get(caller.key_id)
