"""Ledger calls from the event loop: in a worker thread when they wait on DynamoDB, else inline.

A DynamoDB call blocks for a round trip, so it must not run on the loop, which serves every other
stream meanwhile. A ledger that does not wait on the network (the bench's in-memory stand-in) has
nothing to hide from the loop, and the thread hop would be all it costs: a worker wake-up, a GIL
hand-over and the loop's wake-up after it (docs/profiles/README.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from codegateway.store import Ledger


async def ledger_call[**P, R](ledger: Ledger, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`call` (a method of `ledger`) off the loop if the ledger's calls block."""
    if ledger.blocks:
        return await asyncio.to_thread(call, *args, **kwargs)
    return call(*args, **kwargs)
