"""`cgw dev` prints what it promises, and each part it starts answers."""

from __future__ import annotations

import re

import httpx

from tests.support.stack import RunningStack


def test_first_line_names_the_upstream_and_exports_stand_on_their_own_lines(stack: RunningStack) -> None:
    assert stack.upstream_line.startswith(
        "CodeGateway local stack: upstream is the bundled emulator at http://127.0.0.1:"
    )
    exports = [line.rstrip("\n") for line in stack.output if line.startswith("export ")]
    assert re.fullmatch(r"export ANTHROPIC_BASE_URL=http://127\.0\.0\.1:\d+", exports[0])
    assert re.fullmatch(r"export ANTHROPIC_API_KEY=sk-cg-[0-9a-f]{16}_[A-Za-z0-9_-]{43}", exports[1])
    assert re.fullmatch(r"export CGW_DYNAMODB_ENDPOINT=http://127\.0\.0\.1:\d+", exports[2])


def test_the_demo_key_works_and_holds_the_starter_credit(stack: RunningStack) -> None:
    account = httpx.get(f"{stack.base_url}/v1/account", headers={"x-api-key": stack.api_key}).json()
    assert account["email"] == "demo@codegateway.local"
    assert account["status"] == "active"


def test_the_admin_api_answers_on_loopback(stack: RunningStack) -> None:
    assert stack.admin_url is not None
    created = httpx.post(f"{stack.admin_url}/v1/accounts", json={"email": "local-admin@example.com"})
    assert created.status_code == 201
    assert created.json()["balance_usd"] == "2.00"
