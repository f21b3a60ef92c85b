"""The one retry: on what, how many times, and never twice."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from codegateway.errors import UpstreamConnectFailed, UpstreamTimeout
from codegateway.proxy.upstream import Upstream
from codegateway.settings import Settings

SETTINGS = Settings(upstream_url="http://upstream.test", first_byte_timeout_s=0.2)


def _open(script: list[object], settings: Settings = SETTINGS) -> tuple[int | Exception, int, list[float]]:
    """Run one request against a scripted upstream; returns (status or error, calls made, pauses)."""
    calls: list[int] = []
    pauses: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        step = script[min(len(calls), len(script) - 1)]
        calls.append(1)
        if isinstance(step, Exception):
            raise step
        if step == "slow":
            await asyncio.sleep(1)
            return httpx.Response(200)
        return httpx.Response(int(step), content=b"{}")  # type: ignore[call-overload]

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    async def run() -> int | Exception:
        upstream = Upstream(settings, lambda: "sk-up", transport=httpx.MockTransport(handler), sleep=pause)
        try:
            response = await upstream.open("POST", "/v1/messages", b"", [], b"{}", time.monotonic() + 10)
            await response.aclose()
            return response.status
        except (UpstreamConnectFailed, UpstreamTimeout) as error:
            return error
        finally:
            await upstream.aclose()

    return asyncio.run(run()), len(calls), pauses


@pytest.mark.parametrize("status", [502, 503, 504, 529])
def test_one_transient_status_is_retried_once_after_a_jittered_pause(status: int) -> None:
    outcome, calls, pauses = _open([status, 200])
    assert (outcome, calls) == (200, 2)
    assert len(pauses) == 1 and SETTINGS.retry_backoff_min_s <= pauses[0] <= SETTINGS.retry_backoff_max_s


def test_a_persistent_transient_status_is_returned_after_two_attempts() -> None:
    outcome, calls, _ = _open([529, 529, 529])
    assert (outcome, calls) == (529, 2)


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500])
def test_other_statuses_are_never_retried(status: int) -> None:
    assert _open([status, 200])[:2] == (status, 1)


def test_a_connect_error_is_retried_once() -> None:
    assert _open([httpx.ConnectError("refused"), 200])[:2] == (200, 2)


def test_two_connect_errors_are_a_502_after_two_attempts() -> None:
    outcome, calls, _ = _open([httpx.ConnectError("refused")])
    assert isinstance(outcome, UpstreamConnectFailed) and outcome.attempts == 2 and calls == 2


def test_a_slow_first_byte_is_a_timeout_and_not_retried() -> None:
    outcome, calls, _ = _open(["slow"])
    assert isinstance(outcome, UpstreamTimeout) and calls == 1


def test_a_reset_while_the_body_goes_up_is_retried_once() -> None:
    assert _open([httpx.WriteError("reset"), 200])[:2] == (200, 2)


def test_a_plain_message_may_wait_longer_than_the_first_byte_limit() -> None:
    calls: list[int] = []

    async def slow_whole_answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        await asyncio.sleep(0.4)  # longer than the 0.2 s first-byte limit of SETTINGS
        return httpx.Response(200, content=b"{}")

    async def run() -> int:
        upstream = Upstream(SETTINGS, lambda: "sk-up", transport=httpx.MockTransport(slow_whole_answer))
        try:
            response = await upstream.open(
                "POST", "/v1/messages", b"", [], b"{}", time.monotonic() + 10, first_byte_timeout_s=5.0
            )
            await response.aclose()
            return response.status
        finally:
            await upstream.aclose()

    assert asyncio.run(run()) == 200 and calls == [1]
