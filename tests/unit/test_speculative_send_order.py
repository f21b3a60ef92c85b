"""Under speculation the request is on its way upstream before admission's store call starts (that
call's thread would take the GIL from the send), but admission never waits on the send for long, nor
on a send that failed."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest

from codegateway.proxy import admitting

STEPS_BEFORE_WRITTEN = 5  # httpcore's lock checkpoints yield to the loop before the request is written


class Upstream:
    def __init__(self, events: list[str], *, sends: bool = True, fails: bool = False) -> None:
        self.events = events
        self.sends = sends
        self.fails = fails

    async def open(self, *_: object, on_sending: Any = None, **__: object) -> object:
        for _step in range(STEPS_BEFORE_WRITTEN):
            await asyncio.sleep(0)
        if self.fails:
            self.events.append("connect failed")
            raise ConnectionError("refused")
        if self.sends:
            self.events.append("request written")
            on_sending()
        await asyncio.sleep(30)  # the upstream thinks
        raise AssertionError("cancelled before")


class Admission:
    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.speculation = SimpleNamespace(ticket=lambda exchange, nano: SimpleNamespace(admitted=lambda: None))

    def plan(self, exchange: object) -> object:
        return SimpleNamespace(hold=SimpleNamespace(nano=1))

    async def admit(self, exchange: object, planned: object) -> None:
        self.events.append("admission starts")


def _admit(upstream: Upstream, events: list[str]) -> tuple[asyncio.Task[object] | None, float]:
    exchange = SimpleNamespace(
        message=SimpleNamespace(stream=True), log_fields={}, method="POST", path="/v1/messages", query=b"",
        headers=[], body=b"{}", deadline=time.monotonic() + 60, started=time.monotonic(),
    )  # fmt: skip

    async def run() -> tuple[asyncio.Task[object] | None, float]:
        began = time.monotonic()
        opening = await admitting.admit(
            cast(Any, exchange), cast(Any, Admission(events)), cast(Any, upstream), cast(Any, None)
        )
        took = time.monotonic() - began
        if opening is not None:
            opening.cancel()
            await asyncio.gather(opening, return_exceptions=True)
        return opening, took

    return asyncio.run(run())


def test_admission_starts_once_the_request_is_written() -> None:
    events: list[str] = []
    opening, _ = _admit(Upstream(events), events)
    assert opening is not None
    assert events == ["request written", "admission starts"]


def test_a_send_that_never_says_it_was_written_holds_admission_back_briefly_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admitting, "SEND_FIRST_MAX_S", 0.05)
    events: list[str] = []
    _, took = _admit(Upstream(events, sends=False), events)
    assert events == ["admission starts"]
    assert 0.05 <= took < 5


def test_a_send_that_failed_lets_admission_start_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admitting, "SEND_FIRST_MAX_S", 30.0)
    events: list[str] = []
    _, took = _admit(Upstream(events, fails=True), events)
    assert events == ["connect failed", "admission starts"]
    assert took < 10  # not the 30 s the wait allows
