"""Sign-up by email on the local stack: a code printed by the stack's outbox, one account and one
starter credit per address, codes that work once, within 10 minutes and 5 tries."""

from __future__ import annotations

import secrets
import time

import httpx

from codegateway.accounts.signup import SIGNUP_ACTOR
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.outbox import printed_code
from tests.support.proxy import request_id_of_message
from tests.support.stack import RunningStack


def _email() -> str:
    return f"signup-{secrets.token_hex(5)}@example.com"


def _post(stack: RunningStack, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{stack.base_url}{path}", json=body, timeout=30)


def _code_for(stack: RunningStack, email: str) -> str:
    mark = len(stack.output)
    assert _post(stack, "/v1/signup", {"email": email}).status_code == 202
    return printed_code(stack, email, mark)


def test_sign_up_gives_an_account_with_a_working_key_and_two_dollars_in_the_ledger(
    stack: RunningStack, store: Store
) -> None:
    email = _email()
    code = _code_for(stack, email)
    opened = _post(stack, "/v1/signup/verify", {"email": email, "code": code})
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["balance_usd"] == "2.00" and body["email"] == email
    assert body["key"]["key"].startswith("sk-cg-")
    request_id_of_message(stack, body["key"]["key"])
    ledger = store.topups.list_for_account(body["id"])
    assert [(entry.actor, entry.amount_nano) for entry in ledger] == [(SIGNUP_ACTOR, 2_000_000_000)]


def test_signup_answers_202_alike_for_known_and_new_addresses(stack: RunningStack, store: Store) -> None:
    known = _email()
    _post(stack, "/v1/signup/verify", {"email": known, "code": _code_for(stack, known)})
    answers = [_post(stack, "/v1/signup", {"email": address}) for address in (known, _email())]
    assert [answer.status_code for answer in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()


def test_a_code_works_once_and_a_second_account_for_the_address_is_refused(stack: RunningStack) -> None:
    email = _email()
    code = _code_for(stack, email)
    assert _post(stack, "/v1/signup/verify", {"email": email, "code": code}).status_code == 201
    reused = _post(stack, "/v1/signup/verify", {"email": email, "code": code})
    assert reused.status_code == 400, reused.text
    assert reused.json()["error"]["type"] == "invalid_request_error"
    again = _post(stack, "/v1/signup/verify", {"email": email, "code": _code_for(stack, email)})
    assert again.status_code == 409
    assert "exists already" in again.json()["error"]["message"]


def test_a_used_code_is_refused_clearly(stack: RunningStack, store: Store) -> None:
    email = _email()
    code = _code_for(stack, email)
    store.email_codes.consume(email, store.email_codes.get(email).code_hash)  # type: ignore[union-attr]
    refused = _post(stack, "/v1/signup/verify", {"email": email, "code": code})
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "type": "invalid_request_error",
        "message": "That code is wrong, used or expired. Ask for a new code and try again.",
    }


def test_a_wrong_code_for_a_known_address_says_only_that_the_code_is_wrong(stack: RunningStack) -> None:
    known, stranger = _email(), _email()
    _post(stack, "/v1/signup/verify", {"email": known, "code": _code_for(stack, known)})
    _code_for(stack, stranger)
    answers = [
        _post(stack, "/v1/signup/verify", {"email": address, "code": "999999x"}) for address in (known, stranger)
    ]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json()["error"] == answers[1].json()["error"]


def test_five_wrong_tries_burn_the_code(stack: RunningStack) -> None:
    email = _email()
    code = _code_for(stack, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert _post(stack, "/v1/signup/verify", {"email": email, "code": wrong}).status_code == 400
    assert _post(stack, "/v1/signup/verify", {"email": email, "code": code}).status_code == 400


def test_codes_are_stored_hashed_with_a_ten_minute_expiry(stack: RunningStack, store: Store) -> None:
    email = _email()
    code = _code_for(stack, email)
    stored = store.email_codes.get(email)
    assert stored is not None and code not in repr(stored)
    item = store.client.get_item(TableName=Settings().rate_limits_table, Key={"window_id": {"S": f"code#{email}"}})
    assert code not in str(item["Item"])
    assert 590 <= stored.expires_at - time.time() <= 600


def test_too_many_codes_for_one_address_are_refused_with_429(stack: RunningStack) -> None:
    email = _email()
    answers = [_post(stack, "/v1/signup", {"email": email}).status_code for _ in range(4)]
    assert answers[:3] == [202, 202, 202] and answers[3] == 429
