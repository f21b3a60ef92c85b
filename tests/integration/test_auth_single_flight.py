"""A new key's first requests arriving together pay for one bcrypt check between them, through the
real proxy; a wrong secret sent alongside is still refused."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.requests import message_body
from tests.support.stack import RunningStack

TOGETHER = 8


async def _send_together(base_url: str, keys: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/v1/messages",
                    content=message_body(stream=False, max_tokens=16),
                    headers={"x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01"},
                )
                for key in keys
            )
        )


def _log_lines_of(stack: RunningStack, request_ids: set[str]) -> list[dict[str, Any]]:
    lines = []
    for line in list(stack.output):
        if '"request_id"' not in line:
            continue
        try:
            fields = orjson.loads(line[line.index("{") :])
        except ValueError:
            continue
        if fields.get("request_id") in request_ids:
            lines.append(fields)
    return lines


def test_concurrent_first_requests_of_a_new_key_run_bcrypt_once(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, top_up_usd=5)
    forged = caller.api_key.split("_", 1)[0] + "_" + "Z" * 43

    responses = asyncio.run(_send_together(stack.base_url, [caller.api_key] * TOGETHER + [forged]))

    assert [response.status_code for response in responses] == [200] * TOGETHER + [401]
    assert responses[-1].json()["error"]["type"] == "authentication_error"
    request_ids = {response.headers["request-id"] for response in responses[:TOGETHER]}
    deadline = time.monotonic() + 5
    while len(lines := _log_lines_of(stack, request_ids)) < TOGETHER and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(lines) == TOGETHER
    checks = [fields.get("key_check") for fields in lines]
    assert checks.count("bcrypt") == 1, checks  # the others shared its run, or found it already done
