"""Today's models through the real local stack: unknown ids by policy, suffixed ids, fast and data
residency billed from the response, each usage record's model, priced_as and exact cost."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import orjson

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import ApiCaller, new_caller
from tests.support.requests import message_body
from tests.support.stack import RunningStack


def _post(stack: RunningStack, caller: ApiCaller, body: bytes, usage_knob: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/v1/messages",
        content=body,
        headers={"x-api-key": caller.api_key, "x-emulator-usage": usage_knob, **headers},
        timeout=30,
    )


def _only_record(stack: RunningStack, caller: ApiCaller) -> dict[str, Any]:
    response = httpx.get(f"{stack.base_url}/v1/account/usage", headers={"x-api-key": caller.api_key})
    rows: list[dict[str, Any]] = response.json()["data"]
    (row,) = rows
    return row


def test_claude_codes_default_model_is_billed_at_opus_5_5_rates(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    response = _post(stack, caller, message_body("claude-opus-5-5"), "input=10000,output=1000,cache_read=50000")
    assert response.status_code == 200
    row = _only_record(stack, caller)
    # 10,000 x $4 + 1,000 x $20 + 50,000 x $0.20 per MTok = $0.07; x 1.5 = $0.105
    assert (row["model"], row["priced_as"], row["cost_usd"]) == ("claude-opus-5-5", None, "0.105")


def test_a_model_newer_than_the_catalog_is_priced_as_its_familys_newest_and_forwarded_untouched(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    scenario = uuid.uuid4().hex
    body = message_body("claude-opus-6-20270301")
    response = _post(stack, caller, body, "input=1000,output=1000", **{"x-emulator-scenario": scenario})
    assert response.status_code == 200
    (seen,) = stack.emulator_requests(scenario)
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    row = _only_record(stack, caller)
    # Priced as Opus 5.5: 1,000 x $4 + 1,000 x $20 per MTok = $0.024; x 1.5 = $0.036
    assert (row["model"], row["priced_as"], row["cost_usd"]) == ("claude-opus-6-20270301", "claude-opus-5-5", "0.036")


def test_a_context_suffixed_id_is_priced_as_its_base_model_and_forwarded_untouched(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    scenario = uuid.uuid4().hex
    body = message_body("claude-opus-4-8[1m]", stream=False)
    response = _post(stack, caller, body, "input=1000,output=1000", **{"x-emulator-scenario": scenario})
    assert response.status_code == 200
    (seen,) = stack.emulator_requests(scenario)
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    row = _only_record(stack, caller)
    # Opus 4.8: 1,000 x $5 + 1,000 x $25 per MTok = $0.03; x 1.5 = $0.045
    assert (row["model"], row["priced_as"], row["cost_usd"]) == ("claude-opus-4-8[1m]", "claude-opus-4-8", "0.045")


def test_fast_is_billed_from_the_responses_speed_not_the_request(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    fast_body = orjson.loads(message_body("claude-opus-5-5"))
    fast_body["speed"] = "fast"
    served_fast, served_standard = new_caller(store, stack_settings), new_caller(store, stack_settings)
    # The emulator echoes the requested speed, as the API does ...
    _post(stack, served_fast, orjson.dumps(fast_body), "input=1000,output=1000")
    # ... or says it served the request at standard speed.
    _post(stack, served_standard, orjson.dumps(fast_body), "input=1000,output=1000,speed=standard")
    # Opus 5.5: $0.024 standard; fast 2x = $0.048; x 1.5 = $0.072 / $0.036.
    fast_row, standard_row = _only_record(stack, served_fast), _only_record(stack, served_standard)
    assert (fast_row["speed"], fast_row["cost_usd"]) == ("fast", "0.072")
    assert (standard_row["speed"], standard_row["cost_usd"]) == ("standard", "0.036")


def test_us_data_residency_from_the_response_costs_1_1x(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    _post(stack, caller, message_body("claude-sonnet-5-5"), "input=10000,output=1000,inference_geo=us")
    row = _only_record(stack, caller)
    # Sonnet 5.5: 10,000 x $2 + 1,000 x $10 per MTok = $0.03; x 1.1 = $0.033; x 1.5 = $0.0495
    assert (row["inference_geo"], row["cost_usd"]) == ("us", "0.0495")


def test_a_malformed_claude_id_is_still_a_422_with_near_ids(stack: RunningStack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body("claude-opus-6.1"),
        headers={"x-api-key": stack.api_key},
    )
    assert response.status_code == 422
    assert "Did you mean" in response.json()["error"]["message"]
