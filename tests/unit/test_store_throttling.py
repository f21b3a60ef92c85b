"""A throttled DynamoDB call is retried with backoff; if DynamoDB keeps throttling, the caller gets
a 503 with `retry-after`, never a 500. DynamoDB answers come from botocore's Stubber (no I/O)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from pydantic import SecretStr
from starlette.testclient import TestClient

from codegateway.errors import StoreThrottled, StoreUnavailable
from codegateway.proxy.runtime import build_gateway
from codegateway.settings import Settings
from codegateway.store import build_store
from codegateway.store.client import ThrottleRetry, call_retrying_throttles
from codegateway.web.app import create_app

GET_KEY = {"TableName": "codegateway-api-keys", "Key": {"key_id": {"S": "0123456789abcdef"}}}
CANCELLED = "TransactionCanceledException"


def _client() -> Any:
    return botocore.session.Session().create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
    )


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Stubber]]:
    client = _client()
    with Stubber(client) as stubber:
        yield client, stubber
    stubber.assert_no_pending_responses()


class RecordedSleeps:
    def __init__(self) -> None:
        self.slept_s: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept_s.append(seconds)


def _retry(sleeps: RecordedSleeps, attempts: int = 5) -> ThrottleRetry:
    # The jitter's upper end, so the recorded sleeps show the exponential backoff itself.
    return ThrottleRetry(attempts=attempts, sleep=sleeps, jitter=lambda low, high: high)


def _throttle(stubber: Stubber, code: str, reasons: list[str] | None = None) -> None:
    modeled = {"CancellationReasons": [{"Code": reason} for reason in reasons]} if reasons is not None else None
    stubber.add_client_error("get_item", code, "throttled", http_status_code=400, modeled_fields=modeled)


@pytest.mark.parametrize(
    ("code", "reasons"),
    [
        ("ProvisionedThroughputExceededException", None),
        ("ThrottlingException", None),
        ("RequestLimitExceeded", None),
        (CANCELLED, ["None", "ThrottlingError"]),
    ],
    ids=["provisioned", "throttling", "request-limit", "transaction-throttled"],
)
def test_a_throttled_call_is_retried_with_growing_backoff_until_it_succeeds(
    dynamodb: tuple[Any, Stubber], code: str, reasons: list[str] | None
) -> None:
    client, stubber = dynamodb
    for _ in range(3):
        _throttle(stubber, code, reasons)
    stubber.add_response("get_item", {"Item": {"key_id": {"S": "0123456789abcdef"}}}, GET_KEY)
    sleeps = RecordedSleeps()
    answer = call_retrying_throttles(client.get_item, GET_KEY, _retry(sleeps))
    assert answer["Item"]["key_id"] == {"S": "0123456789abcdef"}
    assert sleeps.slept_s == [0.05, 0.1, 0.2]


def test_throttling_that_does_not_stop_is_a_store_throttled_with_retry_after(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    for _ in range(5):
        _throttle(stubber, "ProvisionedThroughputExceededException")
    sleeps = RecordedSleeps()
    with pytest.raises(StoreThrottled) as raised:
        call_retrying_throttles(client.get_item, GET_KEY, _retry(sleeps))
    assert len(sleeps.slept_s) == 4
    assert raised.value.status == 503 and raised.value.headers == {"retry-after": "1"}
    assert isinstance(raised.value, StoreUnavailable)  # every fail-closed path handles it


def test_backoff_is_capped() -> None:
    retry = ThrottleRetry(attempts=12, base_s=0.05, cap_s=0.8, jitter=lambda low, high: high)
    assert [retry.delay_s(attempt) for attempt in range(6)] == [0.05, 0.1, 0.2, 0.4, 0.8, 0.8]


@pytest.mark.parametrize(
    ("code", "reasons"),
    [
        (CANCELLED, ["ConditionalCheckFailed", "None"]),
        (CANCELLED, ["ConditionalCheckFailed", "ThrottlingError"]),
        ("ConditionalCheckFailedException", None),
        ("ValidationException", None),
    ],
    ids=["condition-failed", "condition-failed-and-throttled", "conditional-check", "validation"],
)
def test_a_real_refusal_is_not_retried_and_reaches_the_caller_unchanged(
    dynamodb: tuple[Any, Stubber], code: str, reasons: list[str] | None
) -> None:
    client, stubber = dynamodb
    _throttle(stubber, code, reasons)
    sleeps = RecordedSleeps()
    with pytest.raises(ClientError) as raised:
        call_retrying_throttles(client.get_item, GET_KEY, _retry(sleeps))
    assert raised.value.response["Error"]["Code"] == code
    assert sleeps.slept_s == []


def test_a_key_store_that_keeps_throttling_answers_503_overloaded_with_retry_after() -> None:
    client = _client()
    settings = Settings(upstream_api_key=SecretStr("sk-ant-test"))
    with Stubber(client) as stubber:
        for _ in range(5):  # the default ThrottleRetry: five attempts, ~0.75 s of backoff at most
            _throttle(stubber, "ThrottlingException")
        app = create_app(settings, build_gateway(settings, store=build_store(settings, client)))
        with TestClient(app) as http:
            response = http.post(
                "/v1/messages",
                content=b'{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}',
                headers={"x-api-key": "sk-cg-0123456789abcdef_" + "A" * 43},
            )
        stubber.assert_no_pending_responses()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-should-retry"] == "true"
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "overloaded_error"
    assert "throttling" in body["error"]["message"]
