"""A store operation written once as steps (store/steps.py) gets the same rules whichever way it runs,
blocking or on the event loop: throttles retried then the store's 503, transaction conflicts retried,
transport failures and 5xx failing closed, and every other answer handed to the operation itself, where
a blocking call would have raised it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from codegateway.errors import StoreThrottled, StoreUnavailable
from codegateway.store import client as store_client
from codegateway.store import steps as store_steps
from codegateway.store.client import CONFLICT_ATTEMPTS, ThrottleRetry, error_code
from codegateway.store.steps import Call, Steps, run_blocking, run_on_loop

Answer = dict[str, Any] | Exception


def _error(code: str, status: int = 400, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")


THROTTLED = _error("ProvisionedThroughputExceededException")
CONFLICT = _error("TransactionCanceledException", reasons=["TransactionConflict", "None"])
CONDITION = _error("TransactionCanceledException", reasons=["ConditionalCheckFailed", "None"])
BROKEN = _error("InternalServerError", status=500)


class Script:
    """DynamoDB's answers in turn (then {}), and the calls that asked for them."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((method, params))
        answer = self.answers.pop(0) if self.answers else {}
        if isinstance(answer, Exception):
            raise answer
        return answer


class BlockingClient:
    def __init__(self, script: Script) -> None:
        self._script = script

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._script.answer("get_item", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._script.answer("transact_write_items", params)


class LoopClient:
    def __init__(self, script: Script) -> None:
        self._script = script

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return self._script.answer(method, params)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same retry counts, without the waits between them."""
    retry = ThrottleRetry(sleep=lambda _s: None, jitter=lambda _low, _high: 0.0)
    for module in (store_client, store_steps):
        monkeypatch.setattr(module, "THROTTLE_RETRY", retry)
        monkeypatch.setattr(module, "conflict_delay_s", lambda _attempt: 0.0)


@pytest.fixture(params=["blocking", "on the loop"])
def run(request: pytest.FixtureRequest) -> Any:
    def run_steps(steps: Steps[Any], script: Script) -> Any:
        if request.param == "blocking":
            return run_blocking(BlockingClient(script), steps)
        return asyncio.run(run_on_loop(LoopClient(script), steps))  # type: ignore[arg-type]

    return run_steps


def write(*, transaction: bool = True) -> Steps[str]:
    """One write; what the operation saw of it."""
    try:
        yield Call("transact_write_items", {"TransactItems": []}, transaction=transaction)
    except ClientError as error:
        return "refused: " + error_code(error)
    return "written"


def read_then_write() -> Steps[str]:
    item = (yield Call("get_item", {"Key": {"id": {"S": "a"}}})).get("Item")
    if not item:
        return "nothing to write"
    written = yield from write()
    return f"{item['id']['S']}: {written}"


def test_answers_reach_the_operation_in_order_and_its_result_comes_back(run: Any) -> None:
    script = Script({"Item": {"id": {"S": "a"}}})
    assert run(read_then_write(), script) == "a: written"
    assert [method for method, _ in script.calls] == ["get_item", "transact_write_items"]
    assert run(read_then_write(), Script({})) == "nothing to write"


def test_a_throttle_is_retried_and_the_operation_never_sees_it(run: Any) -> None:
    script = Script(THROTTLED, THROTTLED)
    assert run(write(), script) == "written"
    assert len(script.calls) == 3


def test_throttled_every_time_is_the_stores_503_after_its_attempts(run: Any) -> None:
    script = Script(*[THROTTLED] * 10)
    with pytest.raises(StoreThrottled):
        run(write(), script)
    assert len(script.calls) == ThrottleRetry().attempts


def test_a_transaction_refused_for_a_concurrent_one_is_sent_again(run: Any) -> None:
    script = Script(CONFLICT, CONFLICT, CONFLICT)
    assert run(write(), script) == "written"
    assert len(script.calls) == 4


def test_conflicts_that_never_clear_reach_the_operation_after_the_last_attempt(run: Any) -> None:
    script = Script(*[CONFLICT] * 20)
    assert run(write(), script) == "refused: TransactionCanceledException"
    assert len(script.calls) == CONFLICT_ATTEMPTS


def test_only_a_transaction_is_retried_for_conflicts(run: Any) -> None:
    script = Script(CONFLICT)
    assert run(write(transaction=False), script) == "refused: TransactionCanceledException"
    assert len(script.calls) == 1


def test_a_failed_condition_is_the_operations_answer_at_once(run: Any) -> None:
    script = Script(CONDITION)
    assert run(write(), script) == "refused: TransactionCanceledException"
    assert len(script.calls) == 1


@pytest.mark.parametrize("failure", [BROKEN, ConnectionClosedError(endpoint_url="http://dynamodb")])
def test_a_5xx_or_a_broken_connection_fails_closed(run: Any, failure: Exception) -> None:
    script = Script(failure)
    with pytest.raises(StoreUnavailable):
        run(write(), script)
    assert len(script.calls) == 1  # the client has already tried twice


def test_what_the_operation_raises_reaches_the_caller(run: Any) -> None:
    def refuses_before_any_call() -> Steps[None]:
        raise ValueError("over the cap")
        yield Call("get_item", {})

    with pytest.raises(ValueError, match="over the cap"):
        run(refuses_before_any_call(), Script())
