"""Ledger calls from the event loop: a DynamoDB ledger's calls wait in a worker thread, so every other
stream keeps moving meanwhile; a ledger that waits on nothing (the bench's in-memory stand-in) is
called on the loop itself, without the hop. Either way the caller gets the same answer or refusal."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from codegateway.domain.outcomes import Refusal
from codegateway.domain.records import Hold
from codegateway.proxy.ledger_calls import ledger_call
from codegateway.store import Ledger, ReservationRefused

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


def test_the_dynamodb_ledger_is_called_off_the_loop_and_other_streams_keep_moving() -> None:
    assert Ledger.blocks, "the DynamoDB ledger must declare that its calls block"
    ledger = DynamoDBLikeLedger(wait_s=0.2)

    async def scenario() -> tuple[bool, int, int]:
        call = asyncio.ensure_future(ledger_call(ledger, ledger.release_hold, "acct", HOLD))
        ticks = await _ticks_while(call)
        return await call, ticks, threading.get_ident()

    answer, ticks, loop_thread = asyncio.run(scenario())
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
