"""The admin function's answers beyond the happy path: Anthropic-shaped errors, strict money input,
idempotency, pagination, suspension, who the ledger names, and the tier job on demand."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from codegateway.settings import Settings
from tests.support.admin_function import AdminFunction, AdminResponse
from tests.support.proxy import first_answer_with_status
from tests.support.stack import RunningStack


@pytest.fixture(scope="module")
def admin(stack: RunningStack, stack_settings: Settings) -> Iterator[AdminFunction]:
    function = AdminFunction(stack_settings)
    yield function
    function.close()


def _error(response: AdminResponse, status: int, error_type: str) -> str:
    assert response.status == status, response.text
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type
    assert body["request_id"] == response.headers["request-id"]
    assert response.headers["x-should-retry"] == "false"
    return str(body["error"]["message"])


def _new_account(admin: AdminFunction) -> str:
    response = admin.invoke("admin-accounts", body={"email": f"api-{secrets.token_hex(5)}@example.com"})
    assert response.status == 201, response.text
    return str(response.json()["id"])


def _top_up(admin: AdminFunction, account_id: str, body: object, key: str | None = "k-1") -> AdminResponse:
    path = f"/v1/accounts/{account_id}/topups"
    if key is None:
        return admin.invoke("admin-topups", path=path, body=body, without_headers=("idempotency-key",))
    return admin.invoke("admin-topups", path=path, body=body, headers={"idempotency-key": key})


def test_a_taken_email_is_a_409_and_a_malformed_one_a_400(admin: AdminFunction) -> None:
    email = f"taken-{secrets.token_hex(4)}@example.com"
    assert admin.invoke("admin-accounts", body={"email": email}).status == 201
    message = _error(admin.invoke("admin-accounts", body={"email": email.upper()}), 409, "invalid_request_error")
    assert email in message
    assert "email" in _error(admin.invoke("admin-accounts", body={"email": "nope"}), 400, "invalid_request_error")
    assert "email" in _error(admin.invoke("admin-accounts", body={"name": "x"}), 400, "invalid_request_error")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/accounts/acct_missing"),
        ("POST", "/v1/accounts/acct_missing/suspend"),
        ("GET", "/v1/accounts/acct_missing/keys"),
        ("GET", "/v1/accounts/acct_missing/usage"),
        ("GET", "/v1/accounts/email%23someone@example.com"),
        ("GET", "/v1/keys/0123456789abcdef"),
        ("POST", "/v1/keys/not-a-key-id/rotate"),
        ("GET", "/v1/no/such/route"),
    ],
)
def test_unknown_accounts_keys_and_routes_are_404(admin: AdminFunction, method: str, path: str) -> None:
    _error(admin.invoke("admin-accounts", method=method, path=path, body=""), 404, "not_found_error")


@pytest.mark.parametrize(
    ("amount", "needle"),
    [
        (12.5, "not a JSON number"),
        (10, "not a JSON number"),
        ("1.0000000001", "at most 9 decimals"),
        ("-5", "decimal string"),
        ("1e3", "decimal string"),
        ("NaN", "decimal string"),
        ("0", "more than zero"),
        ("2000000", "at most 1000000 USD"),
    ],
)
def test_top_up_amounts_must_be_exact_decimal_strings(admin: AdminFunction, amount: object, needle: str) -> None:
    account_id = _new_account(admin)
    message = _error(_top_up(admin, account_id, {"amount_usd": amount, "reason": "r"}), 400, "invalid_request_error")
    assert needle in message
    assert admin.get(f"/v1/accounts/{account_id}").json()["balance_usd"] == "2.00"


def test_a_top_up_needs_an_idempotency_key_and_a_reason(admin: AdminFunction) -> None:
    account_id = _new_account(admin)
    message = _error(
        _top_up(admin, account_id, {"amount_usd": "5", "reason": "r"}, key=None), 400, "invalid_request_error"
    )
    assert "Idempotency-Key" in message
    assert "reason" in _error(
        _top_up(admin, account_id, {"amount_usd": "5", "reason": " "}), 400, "invalid_request_error"
    )


def test_nine_decimals_are_credited_to_the_nano_dollar(admin: AdminFunction) -> None:
    account_id = _new_account(admin)
    response = _top_up(admin, account_id, {"amount_usd": "0.000000001", "reason": "smallest unit"})
    assert response.status == 201 and response.json()["account"]["balance_usd"] == "2.000000001"


def test_reusing_an_idempotency_key_for_another_amount_is_refused_and_changes_nothing(admin: AdminFunction) -> None:
    account_id = _new_account(admin)
    assert _top_up(admin, account_id, {"amount_usd": "5", "reason": "first"}).status == 201
    message = _error(_top_up(admin, account_id, {"amount_usd": "50", "reason": "typo"}), 409, "invalid_request_error")
    assert "5.00 USD" in message
    assert admin.get(f"/v1/accounts/{account_id}").json()["balance_usd"] == "7.00"
    assert len(admin.get(f"/v1/accounts/{account_id}/topups").json()["data"]) == 1


def test_the_ledger_names_the_iam_caller_or_local_without_one(admin: AdminFunction) -> None:
    account_id = _new_account(admin)
    path = f"/v1/accounts/{account_id}/topups"
    signed = admin.invoke("admin-topups", path=path, headers={"idempotency-key": "a"})
    unsigned = admin.invoke("admin-topups", path=path, headers={"idempotency-key": "b"}, authorizer={})
    assert signed.json()["topup"]["actor"] == "arn:aws:iam::123456789012:user/ops-ada"
    assert unsigned.json()["topup"]["actor"] == "local"
    ledger = admin.get(path).json()
    assert ledger["has_more"] is False
    assert {entry["idempotency_key"] for entry in ledger["data"]} == {"a", "b"}
    assert all(entry["reason"] == "invoice 2026-117" for entry in ledger["data"])


def test_the_account_list_pages_through_every_account_once(admin: AdminFunction) -> None:
    created = {_new_account(admin) for _ in range(3)}
    seen: list[str] = []
    query = "limit=2"
    while True:
        page = admin.get("/v1/accounts", query=query).json()
        assert len(page["data"]) <= 2
        seen += [account["id"] for account in page["data"]]
        if not page["has_more"]:
            break
        query = f"limit=2&page={page['next_page']}"
    assert created <= set(seen) and len(seen) == len(set(seen))
    assert "page" in _error(admin.get("/v1/accounts", query="page=bogus"), 400, "invalid_request_error")


def test_a_suspended_account_is_refused_by_the_proxy_until_resumed(stack: RunningStack, admin: AdminFunction) -> None:
    account_id = _new_account(admin)
    key = admin.invoke("admin-keys", path=f"/v1/accounts/{account_id}/keys").json()["key"]
    assert admin.post(f"/v1/accounts/{account_id}/suspend").json()["status"] == "suspended"
    refused = first_answer_with_status(stack, key, 403)
    assert refused.json()["error"]["type"] == "permission_error"
    assert admin.post(f"/v1/accounts/{account_id}/resume").json()["status"] == "active"
    first_answer_with_status(stack, key, 200)


def test_usage_queries_check_their_parameters(admin: AdminFunction) -> None:
    account_id = _new_account(admin)
    path = f"/v1/accounts/{account_id}/usage"
    assert "since" in _error(admin.get(path, "since=yesterday"), 400, "invalid_request_error")
    assert "format" in _error(admin.get(path, "format=xml"), 400, "invalid_request_error")
    assert "limit" in _error(admin.get(path, "limit=0"), 400, "invalid_request_error")
    assert "since" in _error(
        admin.get(path, "since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z"), 400, "invalid_request_error"
    )
    csv_by_accept = admin.get(path, headers={"accept": "text/csv"})
    assert csv_by_accept.text.startswith("request_id,created_at,") and csv_by_accept.headers["x-has-more"] == "false"
    assert admin.get(path).json() == {"data": [], "has_more": False, "next_page": None}


def test_tier_recomputation_runs_on_demand(admin: AdminFunction) -> None:
    _new_account(admin)
    response = admin.invoke("admin-tiers")
    assert response.status == 200, response.text
    report = response.json()
    assert report["complete"] is True and report["accounts_scanned"] >= 1 and report["failure_count"] == 0
    dated = admin.invoke("admin-tiers", body={"as_of": "2026-11-01"}).json()
    assert dated["window"] == ["2026-08-04", "2026-11-01"]
    assert "as_of" in _error(admin.invoke("admin-tiers", body={"as_of": "soon"}), 400, "invalid_request_error")


def test_an_admin_sets_an_accounts_overdraft_limit_and_a_bad_amount_is_refused(admin: AdminFunction) -> None:
    account_id = _new_account(admin)
    assert admin.get(f"/v1/accounts/{account_id}").json()["overdraft_limit_usd"] == "0.50"
    path = f"/v1/accounts/{account_id}/overdraft"
    changed = admin.invoke("admin-accounts", method="PUT", path=path, body={"amount_usd": "0"})
    assert changed.status == 200, changed.text
    assert changed.json()["overdraft_limit_usd"] == "0.00"
    for bad in ("-1", "1e3", "20000"):
        response = admin.invoke("admin-accounts", method="PUT", path=path, body={"amount_usd": bad})
        assert "amount_usd" in _error(response, 400, "invalid_request_error") or bad == "20000"
    missing = admin.invoke(
        "admin-accounts", method="PUT", path="/v1/accounts/acct_0000/overdraft", body={"amount_usd": "1"}
    )
    _error(missing, 404, "not_found_error")
