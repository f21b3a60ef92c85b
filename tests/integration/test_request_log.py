"""One request log for both HTTP surfaces: the key holders' (proxy, self-service, dashboard) and the
admin API's lines carry the same fields, and every route a key opens names its account and key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.stack import RunningStack

# Who called: a key holder's account and key (and, on a key's first request in a process, how its
# secret was checked), or the admin who signed the request.
_KEY_HOLDER_FIELDS = {"account_id", "key_id", "key_check"}
_ADMIN_FIELDS = {"actor"}


def _log_line(stack: RunningStack, response: httpx.Response) -> dict[str, Any]:
    return stack.request_log_line(response.headers["request-id"])


def test_a_key_holder_request_and_an_admin_request_log_the_same_fields(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    assert stack.admin_url is not None
    caller = new_caller(store, stack_settings)
    own_keys = httpx.get(f"{stack.base_url}/v1/account/keys", headers={"x-api-key": caller.api_key})
    account = httpx.get(f"{stack.admin_url}/v1/accounts/{caller.account.account_id}")
    assert own_keys.status_code == 200 and account.status_code == 200, (own_keys.text, account.text)

    web_line, admin_line = _log_line(stack, own_keys), _log_line(stack, account)
    assert (web_line["account_id"], web_line["key_id"]) == (caller.account.account_id, caller.key_id)
    assert admin_line["actor"] == "local"  # deployed: the IAM principal that signed the request
    assert set(web_line) - _KEY_HOLDER_FIELDS == set(admin_line) - _ADMIN_FIELDS
    assert {"request_id", "surface", "method", "path", "status", "latency_ms"} <= set(web_line)
    assert (web_line["surface"], admin_line["surface"]) == ("web", "admin")
    assert (web_line["status"], admin_line["status"]) == (200, 200)


def test_unknown_routes_and_wrong_methods_answer_and_log_alike_on_both_surfaces(stack: RunningStack) -> None:
    assert stack.admin_url is not None
    web = httpx.get(f"{stack.base_url}/v1/no/such/route")
    admin = httpx.get(f"{stack.admin_url}/v1/no/such/route")
    assert web.status_code == admin.status_code == 404
    for response in (web, admin):
        body = response.json()
        assert body["error"] == {"type": "not_found_error", "message": "No route for GET /v1/no/such/route."}
        assert body["request_id"] == response.headers["request-id"]
    web_line, admin_line = _log_line(stack, web), _log_line(stack, admin)
    assert set(web_line) == set(admin_line)
    assert web_line["error_type"] == admin_line["error_type"] == "not_found_error"

    web_405 = httpx.delete(f"{stack.base_url}/v1/messages")
    admin_405 = httpx.delete(f"{stack.admin_url}/v1/accounts")
    for response, path in ((web_405, "/v1/messages"), (admin_405, "/v1/accounts")):
        assert response.status_code == 405, response.text
        expected = {"type": "invalid_request_error", "message": f"DELETE is not allowed on {path}."}
        assert response.json()["error"] == expected
        assert _log_line(stack, response)["error_type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "path",
    ["/v1/models", "/v1/models/claude-sonnet-4-6", "/v1/account", "/v1/account/usage", "/v1/account/keys"],
)
def test_every_route_a_key_opens_logs_its_account_and_key(
    stack: RunningStack, store: Store, stack_settings: Settings, path: str
) -> None:
    caller = new_caller(store, stack_settings)
    response = httpx.get(f"{stack.base_url}{path}", headers={"x-api-key": caller.api_key})
    assert response.status_code == 200, response.text
    line = _log_line(stack, response)
    assert (line["account_id"], line["key_id"]) == (caller.account.account_id, caller.key_id)
