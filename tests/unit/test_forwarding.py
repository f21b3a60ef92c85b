"""Whatever way the upstream call fails before the first byte, admission's hold is settled ($0)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from codegateway.domain.records import Hold
from codegateway.errors import UpstreamTimeout
from codegateway.proxy.exchange import Exchange
from codegateway.proxy.forwarding import forward


class FailingUpstream:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def open(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


def _exchange() -> Exchange:
    started = time.monotonic()
    return Exchange(
        request_id="req_1", caller=None, method="POST", path="/v1/messages", query=b"", headers=[], body=b"{}",  # type: ignore[arg-type]
        started=started, deadline=started + 10, hold=Hold("req_1", 5, 0),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("error", "status"),
    [(UpstreamTimeout("slow", attempts=1), 504), (httpx.DecodingError("odd"), 500), (RuntimeError("bug"), 500)],
)
def test_failure_before_the_first_byte_settles_and_reraises(error: BaseException, status: int) -> None:
    settled: list[Any] = []

    async def settle(exchange: Exchange, outcome: Any, capture: Any) -> None:
        settled.append(outcome)

    async def nothing(message: Any) -> None:
        raise AssertionError("nothing may be sent to the client")

    async def run() -> None:
        await forward(_exchange(), FailingUpstream(error), nothing, nothing, keepalive_interval_s=1, settle=settle)  # type: ignore[arg-type]

    with pytest.raises(type(error)):
        asyncio.run(run())
    (outcome,) = settled
    assert (outcome.ended, outcome.status) == ("upstream_failed", status)
