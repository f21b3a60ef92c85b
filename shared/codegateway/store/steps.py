"""A store operation written once and run two ways: blocking, in the caller's thread (the admin API, the
CLI, the tier job, the proxy's fallback), or on the event loop (store/dynamodb_loop.py, the proxy).

An operation is a generator: it yields each DynamoDB call it needs as a `Call`, is sent the call's
answer, or has the call's error thrown in where a blocking call would have raised it, and returns its
result. The rules around a call are the drivers', the same both ways: throttles retried with backoff
then StoreThrottled, transport failures and 5xx made StoreUnavailable (store/client.py), and for a
transaction, conflicts with a concurrent one retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from codegateway.errors import StoreThrottled, StoreUnavailable
from codegateway.store.client import (
    CONFLICT_ATTEMPTS,
    THROTTLE_RETRY,
    DynamoClient,
    call,
    call_retrying_conflicts,
    conflict_delay_s,
    fails_closed,
    is_conflict,
    is_throttled,
)

if TYPE_CHECKING:
    from codegateway.store.dynamodb_loop import DynamoDBLoopClient


@dataclass(frozen=True, slots=True)
class Call:
    method: str  # the client's method: "get_item", "transact_write_items"
    params: dict[str, Any]
    transaction: bool = False  # retried when a concurrent transaction on its items refused it


type Steps[T] = Generator[Call, dict[str, Any], T]


def run_blocking[T](client: DynamoClient, steps: Steps[T]) -> T:
    try:
        pending = next(steps)
        while True:
            try:
                answer = _blocking(client, pending)
            except Exception as error:
                pending = steps.throw(error)
            else:
                pending = steps.send(answer)
    except StopIteration as done:
        result: T = done.value
        return result


async def run_on_loop[T](client: DynamoDBLoopClient, steps: Steps[T]) -> T:
    try:
        pending = next(steps)
        while True:
            try:
                answer = await _on_loop(client, pending)
            except Exception as error:
                pending = steps.throw(error)
            else:
                pending = steps.send(answer)
    except StopIteration as done:
        result: T = done.value
        return result


async def run_from_loop[T](loop_client: DynamoDBLoopClient | None, steps: Steps[T], blocking: Callable[[], T]) -> T:
    """An operation called from the event loop: its steps on the loop itself where there is a loop
    client (the proxy on DynamoDB), else `blocking` (the same operation) in a worker thread."""
    if loop_client is None:
        steps.close()
        return await asyncio.to_thread(blocking)
    return await run_on_loop(loop_client, steps)


def _blocking(client: DynamoClient, pending: Call) -> dict[str, Any]:
    operation = getattr(client, pending.method)
    if pending.transaction:
        return call_retrying_conflicts(operation, **pending.params)
    return call(operation, **pending.params)


async def _on_loop(client: DynamoDBLoopClient, pending: Call) -> dict[str, Any]:
    """As `_blocking` does with call_retrying_conflicts and call, sleeping on the loop between tries."""
    for conflict in range(CONFLICT_ATTEMPTS if pending.transaction else 1):
        for throttle in range(THROTTLE_RETRY.attempts):
            try:
                return await client.call(pending.method, pending.params)
            except (ClientError, BotoCoreError) as error:
                if fails_closed(error):
                    raise StoreUnavailable() from error
                if not isinstance(error, ClientError):
                    raise
                if is_throttled(error):
                    if throttle == THROTTLE_RETRY.attempts - 1:
                        raise StoreThrottled(retry_after_s=THROTTLE_RETRY.retry_after_s) from error
                    await asyncio.sleep(THROTTLE_RETRY.delay_s(throttle))
                    continue
                if not pending.transaction or not is_conflict(error) or conflict == CONFLICT_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(conflict_delay_s(conflict))
                break
    raise AssertionError("unreachable: the last attempt returns or raises")
