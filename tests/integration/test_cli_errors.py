"""`cgw` refusals a script can rely on: one line on stderr, nothing on stdout, and an exit code that
says what went wrong (2 bad input, 3 not found, 4 conflict, 5 DynamoDB unreachable, 1 otherwise)."""

from __future__ import annotations

import secrets

import pytest

from codegateway.dev.processes import free_port
from tests.support.cli import Cgw
from tests.support.stack import RunningStack


@pytest.fixture(scope="module")
def cgw(stack: RunningStack) -> Cgw:
    return Cgw(stack.dynamodb_endpoint)


@pytest.fixture(scope="module")
def account_id(cgw: Cgw) -> str:
    return str(cgw.json("accounts", "create", f"errors-{secrets.token_hex(4)}@example.com")["id"])


def test_a_taken_email_exits_4(cgw: Cgw) -> None:
    email = f"twice-{secrets.token_hex(4)}@example.com"
    cgw.ok("accounts", "create", email)
    assert "exists already" in cgw.fails(4, "accounts", "create", email)
    assert "email" in cgw.fails(2, "accounts", "create", "not-an-email")


def test_a_revoked_key_cannot_be_revoked_or_rotated_again(cgw: Cgw, account_id: str) -> None:
    key_id = cgw.json("keys", "create", account_id)["id"]
    cgw.ok("keys", "revoke", key_id)
    assert "already revoked" in cgw.fails(4, "keys", "revoke", key_id)
    assert "already revoked" in cgw.fails(4, "keys", "rotate", key_id)


@pytest.mark.parametrize("amount", ["12.5.0", "1e3", "0.0000000001", "0"])
def test_top_up_amounts_are_checked(cgw: Cgw, account_id: str, amount: str) -> None:
    stderr = cgw.fails(2, "topup", account_id, amount, "--idempotency-key", "k", "--reason", "r")
    assert "AMOUNT_USD" in stderr


def test_a_top_up_needs_its_idempotency_key_and_reason(cgw: Cgw, account_id: str) -> None:
    assert "--idempotency-key" in cgw.run("topup", account_id, "5", "--reason", "r").stderr
    assert cgw.run("topup", account_id, "5", "--idempotency-key", "k").exit_code == 2


def test_an_idempotency_key_reused_for_another_amount_exits_4(cgw: Cgw, account_id: str) -> None:
    key = f"reuse-{secrets.token_hex(4)}"
    cgw.ok("topup", account_id, "3", "--idempotency-key", key, "--reason", "first")
    again = cgw.ok("topup", account_id, "3", "--idempotency-key", key, "--reason", "first")
    assert "used before: nothing changed" in again.stderr
    assert "3.00 USD" in cgw.fails(4, "topup", account_id, "30", "--idempotency-key", key, "--reason", "typo")


def test_usage_needs_one_subject(cgw: Cgw, account_id: str) -> None:
    assert "--account or --key" in cgw.fails(2, "usage")
    assert "--account or --key" in cgw.fails(2, "usage", "--account", account_id, "--key", "0123456789abcdef")
    assert "since" in cgw.fails(2, "usage", "--account", account_id, "--since", "last week")
    assert "--daily" in cgw.fails(2, "usage", "--key", "0123456789abcdef", "--daily")


def test_an_unreachable_dynamodb_exits_5() -> None:
    closed = Cgw(f"http://127.0.0.1:{free_port()}")
    assert "cannot reach DynamoDB" in closed.fails(5, "accounts", "get", "acct_any")


def test_a_missing_table_says_which_names_to_check(cgw: Cgw) -> None:
    stderr = cgw.fails(1, "accounts", "list", "--accounts-table", "no-such-table")
    assert "ResourceNotFoundException" in stderr and "--stack-name" in stderr
