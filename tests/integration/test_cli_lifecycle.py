"""The whole life of an account through the `cgw` CLI, straight against the local stack's DynamoDB:
open it, give it keys, use one through the proxy, rotate it, revoke the other, top it up twice with
one idempotency key (credited once), and export its usage as CSV matching the requests made."""

from __future__ import annotations

import csv
import io
import os
import secrets
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from codegateway.accounts.views import USAGE_COLUMNS
from tests.support.cli import Cgw
from tests.support.proxy import request_id_of_message, requests_until_refused
from tests.support.stack import RunningStack


@pytest.fixture(scope="module")
def cgw(stack: RunningStack) -> Cgw:
    return Cgw(stack.dynamodb_endpoint)


def test_account_lifecycle_through_the_cli(stack: RunningStack, cgw: Cgw) -> None:
    email = f"cli-{secrets.token_hex(4)}@example.com"
    account = cgw.json("accounts", "create", email, "--name", "CLI user")
    account_id = account["id"]
    assert (account["email"], account["balance_usd"], account["status"]) == (email, "2.00", "active")
    assert cgw.json("accounts", "get", account_id) == account

    key_a = cgw.json("keys", "create", account_id, "--name", "laptop")
    key_b = cgw.json("keys", "create", account_id, "--name", "ci", "--rpm-limit", "30")
    made = [request_id_of_message(stack, key_a["key"]) for _ in range(2)]

    rotated = cgw.json("keys", "rotate", key_a["id"])
    new_key = rotated["issued"]
    assert rotated["revoked"]["id"] == key_a["id"] and new_key["name"] == "laptop"
    made += requests_until_refused(stack, key_a["key"])
    made.append(request_id_of_message(stack, new_key["key"]))

    assert cgw.json("keys", "revoke", key_b["id"])["status"] == "revoked"
    assert requests_until_refused(stack, key_b["key"]) == []
    statuses = {key["id"]: key["status"] for key in cgw.json("keys", "list", account_id)["data"]}
    assert statuses == {key_a["id"]: "revoked", key_b["id"]: "revoked", new_key["id"]: "active"}

    before = Decimal(cgw.json("accounts", "get", account_id)["balance_usd"])
    topup = ("topup", account_id, "12.50", "--idempotency-key", f"inv-{secrets.token_hex(4)}", "--reason", "invoice")
    first, again = cgw.json(*topup), cgw.json(*topup)
    assert (first["applied"], again["applied"]) == (True, False)
    assert Decimal(again["account"]["balance_usd"]) == before + Decimal("12.50")
    ledger = cgw.json("ledger", account_id)["data"]
    assert [(entry["amount_usd"], entry["reason"]) for entry in ledger] == [("12.50", "invoice")]
    assert ledger[0]["actor"].startswith("cli:")

    exported = cgw.ok("usage", "--account", account_id, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert tuple(rows[0]) == USAGE_COLUMNS
    assert [row["request_id"] for row in rows] == made
    assert {row["key_id"] for row in rows} == {key_a["id"], new_key["id"]}
    spent = sum(Decimal(row["cost_usd"]) for row in rows)
    balance = Decimal(cgw.json("accounts", "get", account_id)["balance_usd"])
    assert spent > 0 and spent == Decimal("2.00") + Decimal("12.50") - balance

    by_key = cgw.json("usage", "--key", new_key["id"])["data"]
    assert [row["request_id"] for row in by_key] == made[-1:]
    daily = cgw.json("usage", "--account", account_id, "--daily")["data"]
    assert sum(day["requests"] for day in daily) == len(made)


def test_cli_tables_are_for_people_and_errors_go_to_stderr_with_an_exit_code(cgw: Cgw) -> None:
    account_id = cgw.json("accounts", "create", f"table-{secrets.token_hex(4)}@example.com")["id"]
    shown = cgw.ok("accounts", "get", account_id).stdout
    assert account_id in shown and "balance_usd" in shown and "2.00" in shown
    assert "email" in cgw.ok("accounts", "list", "--limit", "5").stdout
    assert "no such account" in cgw.fails(3, "accounts", "get", "acct_nobody")
    assert "no such account" in cgw.fails(3, "keys", "create", "acct_nobody")
    assert "no such key" in cgw.fails(3, "keys", "rotate", "0123456789abcdef")


def test_the_console_script_exports_csv_for_a_key(stack: RunningStack, cgw: Cgw) -> None:
    account_id = cgw.json("accounts", "create", f"script-{secrets.token_hex(4)}@example.com")["id"]
    key = cgw.json("keys", "create", account_id)
    request_id = request_id_of_message(stack, key["key"])
    cgw_script = Path(sys.executable).with_name("cgw")
    completed = subprocess.run(
        [str(cgw_script), "usage", "--key", key["id"], "--format", "csv"],
        capture_output=True,
        text=True,
        env={**os.environ, "CGW_DYNAMODB_ENDPOINT": stack.dynamodb_endpoint},
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert [row["request_id"] for row in csv.DictReader(io.StringIO(completed.stdout))] == [request_id]
    missing = subprocess.run(
        [str(cgw_script), "accounts", "get", "acct_nobody"],
        capture_output=True,
        text=True,
        env={**os.environ, "CGW_DYNAMODB_ENDPOINT": stack.dynamodb_endpoint},
        timeout=60,
        check=False,
    )
    assert missing.returncode == 3 and "no such account" in missing.stderr and missing.stdout == ""
