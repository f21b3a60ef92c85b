"""Beside the session stack: a second local stack whose keepalive pings come every 0.3 s, so idle
checks take seconds, not 65 s."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codegateway.settings import Settings
from codegateway.store import build_store
from tests.support.stack import FAST_KEEPALIVE_S, StackWithStore, start_stack


@pytest.fixture(scope="session")
def fast_stack() -> Iterator[StackWithStore]:
    running = start_stack(extra_env={"CGW_KEEPALIVE_INTERVAL_S": str(FAST_KEEPALIVE_S)})
    settings = Settings(dynamodb_endpoint=running.dynamodb_endpoint)
    yield StackWithStore(running, build_store(settings), settings)
    running.stop()
