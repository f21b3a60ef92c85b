"""No prompt text and no secret in any log line or any table item."""

from __future__ import annotations

import secrets
import time

import httpx
import orjson

from codegateway.dev.table_schema import TABLE_SETTINGS
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.stack import RunningStack


def test_prompt_canary_appears_in_no_log_line_and_no_table_item(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    canary = "CANARY-" + secrets.token_hex(12)
    caller = new_caller(store, stack_settings)
    body = orjson.dumps(
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 64,
            "system": f"system prompt {canary}",
            "metadata": {"user_id": "u-1"},
            "tools": [{"name": "t", "description": canary, "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": f"please remember {canary}"}],
        }
    )
    for stream in (True, False):
        payload = orjson.loads(body) | {"stream": stream}
        response = httpx.post(
            f"{stack.base_url}/v1/messages",
            content=orjson.dumps(payload),
            headers={"x-api-key": caller.api_key, "x-emulator-text": f"echo {canary}", "x-emulator-deltas": "1"},
        )
        assert response.status_code == 200 and canary in response.text  # the client does get it
    httpx.post(f"{stack.base_url}/v1/messages", content=body[:-5], headers={"x-api-key": caller.api_key})  # a 400
    time.sleep(0.3)  # let the log lines of those requests flush

    logs = "".join(stack.output)
    assert canary not in logs
    secret_part = caller.api_key.split("_", 1)[1]
    assert secret_part not in logs
    assert caller.key_id in logs  # the key id, which is not secret, is what logs carry

    for logical_id, setting in TABLE_SETTINGS.items():
        table = getattr(stack_settings, setting)
        items = store.client.scan(TableName=table)["Items"]
        text = orjson.dumps(items).decode()
        assert canary not in text, f"{logical_id} holds prompt text"
        assert secret_part not in text, f"{logical_id} holds a plaintext key"
