"""Ledger calls from the event loop: a DynamoDB ledger with a loop client makes its money movements on the
loop itself, as its DynamoDB calls' own awaits; one without (botocore's client, a method with no loop
form) waits in a worker thread; either way every other stream keeps moving meanwhile. A ledger that
waits on nothing (the bench's in-memory stand-in) is called inline. Each way the caller gets the same
answer or refusal."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from codegateway.domain.outcomes import Refusal
from codegateway.domain.records import Hold
from codegateway.proxy.ledger_calls import ledger_call
from codegateway.proxy.runtime import build_gateway
from codegateway.settings import Settings
from codegateway.store import Ledger, ReservationRefused, Store, build_store
from codegateway.store.dynamodb_loop import DynamoDBLoopClient

HOLD = Hold("req_1", 1_000, 2_000_000_000)


class DynamoDBLikeLedger(Ledger):
    """A ledger whose release takes `wait_s`, as a DynamoDB round trip does, and notes its thread."""

    def __init__(self, *, wait_s: float = 0.0, refuse: bool = False) -> None:
        self.wait_s = wait_s
        self.refuse = refuse
        self.thread_id: int | None = None

    def release_hold(self, account_id: str, hold: Hold) -> bool:
        self.thread_id = threading.get_ident()
        time.sleep(self.wait_s)
        if self.refuse:
            raise ReservationRefused(Refusal.BALANCE, available_nano=5)
        return True


class InMemoryLedger(DynamoDBLikeLedger):
    blocks = False


async def _ticks_while(call: asyncio.Future[object] | asyncio.Task[object]) -> int:
    ticks = 0
    while not call.done():
        await asyncio.sleep(0.01)
        ticks += 1
    return ticks


def _release_while_the_loop_ticks(ledger: Ledger) -> tuple[bool, int, int]:
    """release_hold through ledger_call; its answer, how often the loop ticked meanwhile, the loop's thread."""

    async def scenario() -> tuple[bool, int, int]:
        call = asyncio.ensure_future(ledger_call(ledger, ledger.release_hold, "acct", HOLD))
        ticks = await _ticks_while(call)
        return await call, ticks, threading.get_ident()

    return asyncio.run(scenario())


def test_the_dynamodb_ledger_is_called_off_the_loop_and_other_streams_keep_moving() -> None:
    assert Ledger.blocks, "the DynamoDB ledger must declare that its calls block"
    ledger = DynamoDBLikeLedger(wait_s=0.2)
    answer, ticks, loop_thread = _release_while_the_loop_ticks(ledger)
    assert answer is True
    assert ledger.thread_id != loop_thread
    assert ticks >= 5, "the loop stood still while the ledger waited"


def test_a_ledger_that_waits_on_nothing_is_called_on_the_loop() -> None:
    ledger = InMemoryLedger()

    async def scenario() -> tuple[bool, int]:
        return await ledger_call(ledger, ledger.release_hold, "acct", HOLD), threading.get_ident()

    answer, loop_thread = asyncio.run(scenario())
    assert answer is True
    assert ledger.thread_id == loop_thread


@pytest.mark.parametrize("blocks", [True, False])
def test_a_refusal_reaches_the_caller_whichever_way_the_ledger_is_called(blocks: bool) -> None:
    ledger = DynamoDBLikeLedger(refuse=True) if blocks else InMemoryLedger(refuse=True)
    with pytest.raises(ReservationRefused) as refused:
        asyncio.run(ledger_call(ledger, ledger.release_hold, "acct", HOLD))
    assert refused.value.reason == Refusal.BALANCE
    assert refused.value.available_nano == 5


class LoopClient:
    """Answers each call after `wait_s`, awaited on the loop, as DynamoDBLoopClient does; notes the
    calls and the thread each ran in."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self.calls: list[tuple[str, int]] = []

    async def call(self, method: str, params: dict[str, object]) -> dict[str, object]:
        self.calls.append((method, threading.get_ident()))
        await asyncio.sleep(self.wait_s)
        return {}


def _ledger_on_loop(loop_client: LoopClient) -> Ledger:
    # No blocking client at all: a call that took the thread path would fail on it.
    fake: DynamoDBLoopClient = loop_client  # type: ignore[assignment]
    return Ledger(None, "accounts", "usage", 30, loop_client=fake)


def test_with_a_loop_client_the_money_movements_run_on_the_loop_and_other_streams_keep_moving() -> None:
    loop_client = LoopClient(wait_s=0.2)
    ledger = _ledger_on_loop(loop_client)
    answer, ticks, loop_thread = _release_while_the_loop_ticks(ledger)
    assert answer is True
    assert loop_client.calls == [("transact_write_items", loop_thread)]
    assert ticks >= 5, "the loop stood still while the ledger waited"


def test_a_subclass_own_method_has_no_loop_form_and_takes_the_worker_thread() -> None:
    class Overridden(Ledger):
        def release_hold(self, account_id: str, hold: Hold) -> bool:
            return threading.get_ident() != loop_thread

    loop_client = LoopClient(wait_s=0.0)
    ledger = Overridden(None, "accounts", "usage", 30, loop_client=loop_client)  # type: ignore[arg-type]
    loop_thread = 0

    async def scenario() -> bool:
        nonlocal loop_thread
        loop_thread = threading.get_ident()
        return await ledger_call(ledger, ledger.release_hold, "acct", HOLD)

    assert asyncio.run(scenario()) is True  # ran off the loop
    assert loop_client.calls == []


def test_the_proxys_store_moves_money_on_the_loop_and_the_other_stores_block() -> None:
    local = Settings(dynamodb_endpoint="http://127.0.0.1:9")

    def has_loop_form(store: Store) -> bool:
        on_loop = store.ledger.on_loop(store.ledger.release_hold, "acct", HOLD)
        if on_loop is None:
            return False
        on_loop.close()  # never run: nothing listens on port 9
        return True

    assert has_loop_form(build_gateway(local).store)  # what the proxy function builds
    assert not has_loop_form(build_store(local))  # the admin API, the CLI, the tier job
    assert not has_loop_form(build_store(local.model_copy(update={"dynamodb_client": "botocore"}), loop_calls=True))
