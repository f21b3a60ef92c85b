"""Ledger calls from the event loop: on the loop itself when the ledger can make them there (its
DynamoDB client is ours: store/dynamodb_loop.py), else in a worker thread when they wait on DynamoDB,
else inline.

A blocking DynamoDB call must not run on the loop, which serves every other stream meanwhile; in a
worker thread it costs the loop a hand-over each way (a worker wake-up, a GIL hand-over, the loop's
wake-up after it: 0.5-0.7 ms of CPU a call in the proxy, docs/profiles/README.md). A ledger that
waits on nothing (the bench's in-memory stand-in) is called inline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from codegateway.store import Ledger


async def ledger_call[**P, R](ledger: Ledger, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`call` (a method of `ledger`) on the loop, off it, or inline: see above."""
    on_loop = ledger.on_loop(call, *args, **kwargs)
    if on_loop is not None:
        return await on_loop
    if ledger.blocks:
        return await asyncio.to_thread(call, *args, **kwargs)
    return call(*args, **kwargs)
