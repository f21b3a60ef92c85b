"""Session fixtures: the real local stack, started once, and direct access to its DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codegateway.settings import Settings
from codegateway.store import Store, build_store
from tests.support.stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    running = start_stack()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def stack_settings(stack: RunningStack) -> Settings:
    return Settings(dynamodb_endpoint=stack.dynamodb_endpoint)


@pytest.fixture(scope="session")
def store(stack_settings: Settings) -> Store:
    return build_store(stack_settings)
