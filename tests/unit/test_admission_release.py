"""A hold admission gives back (the request refused after its reservation, or the reservation's answer
lost) is given back even when the request is cancelled meanwhile, as a shutdown cancels it: on the loop
the release is the request's own task, which a worker thread used to finish regardless."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import Any, cast

from codegateway.domain.records import Hold
from codegateway.proxy.admission import Admission
from codegateway.proxy.prompt_history import PromptHistory
from codegateway.proxy.rate_limit import RateLimiter
from codegateway.settings import Settings
from codegateway.store import Store


class LedgerOnTheLoop:
    """Releases on the loop, once `gate` opens."""

    blocks = False

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.released: list[tuple[str, Hold]] = []

    def release_hold(self, account_id: str, hold: Hold) -> None:
        raise AssertionError("the loop form runs, not this")

    def on_loop(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Coroutine[Any, Any, None]:
        assert call == self.release_hold

        async def release() -> None:
            await self.gate.wait()
            self.released.append(args)

        return release()


def test_a_release_under_way_finishes_when_its_request_is_cancelled() -> None:
    ledger = LedgerOnTheLoop()
    store = cast(Store, SimpleNamespace(ledger=ledger))
    admission = Admission(store, Settings(), cast(RateLimiter, None), cast(PromptHistory, None))
    hold = Hold("req_1", 5_000_000, 2_000_000_000)

    async def scenario() -> None:
        request = asyncio.create_task(admission._release("acct_1", hold))
        await asyncio.sleep(0.01)
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)
        assert request.cancelled()
        ledger.gate.set()
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert ledger.released == [("acct_1", hold)]
