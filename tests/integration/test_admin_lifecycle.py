"""The whole life of an account through the admin function (Mangum handler, Function URL events):
open it, give it keys, use one through the proxy, rotate it, revoke the other, top it up (once per
idempotency key), and export its usage as CSV that matches the requests made."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest

from codegateway.accounts.views import USAGE_COLUMNS
from codegateway.settings import Settings
from tests.support.admin_function import AdminFunction
from tests.support.proxy import request_id_of_message, requests_until_refused, send_message
from tests.support.stack import RunningStack


@pytest.fixture(scope="module")
def admin(stack: RunningStack, stack_settings: Settings) -> Iterator[AdminFunction]:
    function = AdminFunction(stack_settings)
    yield function
    function.close()


def _balance(admin: AdminFunction, account_id: str) -> Decimal:
    return Decimal(admin.get(f"/v1/accounts/{account_id}").json()["balance_usd"])


def test_account_lifecycle_through_the_admin_function(stack: RunningStack, admin: AdminFunction) -> None:
    email = f"lifecycle-{secrets.token_hex(4)}@example.com"
    opened = admin.invoke("admin-accounts", body={"email": email, "name": "Lifecycle"})
    assert opened.status == 201, opened.text
    account_id = opened.json()["id"]
    assert opened.json()["balance_usd"] == "2.00"

    keys_path = f"/v1/accounts/{account_id}/keys"
    key_a = admin.invoke("admin-keys", path=keys_path, body={"name": "laptop"}).json()
    key_b = admin.invoke("admin-keys", path=keys_path, body={"name": "ci", "rpm_limit": 30}).json()
    assert key_a["key"].startswith(f"sk-cg-{key_a['id']}_") and key_b["rpm_limit"] == 30

    made = [request_id_of_message(stack, key_a["key"]) for _ in range(2)]

    rotated = admin.post(f"/v1/keys/{key_a['id']}/rotate")
    assert rotated.status == 201, rotated.text
    new_key = rotated.json()["issued"]
    assert rotated.json()["revoked"]["status"] == "revoked"
    assert (new_key["name"], new_key["rpm_limit"]) == ("laptop", None)
    made += requests_until_refused(stack, key_a["key"])
    made.append(request_id_of_message(stack, new_key["key"]))

    revoked = admin.post(f"/v1/keys/{key_b['id']}/revoke")
    assert revoked.status == 200 and revoked.json()["status"] == "revoked"
    assert requests_until_refused(stack, key_b["key"]) == []  # never used, so nothing to bill
    assert admin.post(f"/v1/keys/{key_b['id']}/revoke").status == 409

    listed = admin.get(keys_path).json()["data"]
    assert {(key["id"], key["status"]) for key in listed} == {
        (key_a["id"], "revoked"),
        (key_b["id"], "revoked"),
        (new_key["id"], "active"),
    }

    before = _balance(admin, account_id)
    topups_path = f"/v1/accounts/{account_id}/topups"
    idempotency = {"idempotency-key": f"invoice-{secrets.token_hex(4)}"}
    first = admin.invoke("admin-topups", path=topups_path, headers=idempotency)
    again = admin.invoke("admin-topups", path=topups_path, headers=idempotency)
    assert (first.status, first.json()["applied"]) == (201, True)
    assert (again.status, again.json()["applied"]) == (200, False)
    assert again.json()["topup"] == first.json()["topup"]
    assert _balance(admin, account_id) == before + Decimal("25.00")
    ledger = admin.get(topups_path).json()["data"]
    assert [(entry["amount_usd"], entry["actor"]) for entry in ledger] == [
        ("25.00", "arn:aws:iam::123456789012:user/ops-ada")
    ]

    exported = admin.invoke("admin-usage", path=f"/v1/accounts/{account_id}/usage", query="format=csv")
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert tuple(rows[0]) == USAGE_COLUMNS
    assert [row["request_id"] for row in rows] == made  # oldest first
    assert [row["key_id"] for row in rows] == [key_a["id"]] * (len(made) - 1) + [new_key["id"]]
    assert all(row["status"] == "200" and row["model"] == "claude-sonnet-4-6" for row in rows)
    # Every cent charged is in the export: starter credit + top-up - balance.
    spent = sum(Decimal(row["cost_usd"]) for row in rows)
    assert spent > 0 and spent == Decimal("2.00") + Decimal("25.00") - _balance(admin, account_id)

    by_key = admin.get(f"/v1/keys/{new_key['id']}/usage").json()
    assert [row["request_id"] for row in by_key["data"]] == made[-1:]
    daily = admin.get(f"/v1/accounts/{account_id}/usage/daily").json()["data"]
    assert sum(day["requests"] for day in daily) == len(made)
    assert sum(Decimal(day["cost_usd"]) for day in daily) == spent

    assert send_message(stack, new_key["key"]).status_code == 200
