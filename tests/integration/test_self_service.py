"""Key self-service on the proxy: a key holder lists, creates, revokes and rotates the keys of their
own account, and cannot see or touch another account's keys (those answer 404, like missing ones)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx

from codegateway.accounts.keys import SELF_SERVICE_ACTIVE_KEY_LIMIT, create_key, issue_key
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.proxy import first_answer_with_status, request_id_of_message, requests_until_refused
from tests.support.stack import RunningStack


def _call(stack: RunningStack, method: str, path: str, api_key: str, json: object = None) -> httpx.Response:
    return httpx.request(method, f"{stack.base_url}{path}", headers={"x-api-key": api_key}, json=json, timeout=30)


def test_a_holder_lists_and_creates_keys_of_their_own_account(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=7)
    created = _call(stack, "POST", "/v1/account/keys", caller.api_key, {"name": "second laptop"})
    assert created.status_code == 201, created.text
    new_key = created.json()
    assert new_key["account_id"] == caller.account.account_id and new_key["name"] == "second laptop"
    # A holder cannot mint a key with more room than their own.
    assert new_key["rpm_limit"] == 7
    request_id_of_message(stack, new_key["key"])

    listed = _call(stack, "GET", "/v1/account/keys", caller.api_key)
    assert listed.status_code == 200
    assert {key["id"] for key in listed.json()["data"]} == {caller.key_id, new_key["id"]}
    assert caller.api_key not in listed.text and new_key["key"] not in listed.text and "$2b$" not in listed.text


def test_a_holder_cannot_see_revoke_or_rotate_another_accounts_keys(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    mallory = new_caller(store, stack_settings)
    alice = new_caller(store, stack_settings)
    listed = _call(stack, "GET", "/v1/account/keys", mallory.api_key).json()["data"]
    assert alice.key_id not in {key["id"] for key in listed}

    missing = _call(stack, "POST", "/v1/account/keys/0123456789abcdef/revoke", mallory.api_key)
    for action in ("revoke", "rotate"):
        refused = _call(stack, "POST", f"/v1/account/keys/{alice.key_id}/{action}", mallory.api_key)
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"] == {
            "type": "not_found_error",
            "message": f"key {alice.key_id}: no such key in this account.",
        }
        # Same answer as for a key that does not exist: nothing tells Mallory Alice's key is real.
        assert (
            refused.json()["error"]["message"].replace(alice.key_id, "0123456789abcdef")
            == (missing.json()["error"]["message"])
        )
    assert store.api_keys.get(alice.key_id).revoked_at is None  # type: ignore[union-attr]
    request_id_of_message(stack, alice.api_key)


def test_a_holder_rotates_a_key_the_old_one_dies_within_a_second(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    request_id_of_message(stack, caller.api_key)
    spare = _call(stack, "POST", "/v1/account/keys", caller.api_key, {"name": "spare"}).json()
    rotated = _call(stack, "POST", f"/v1/account/keys/{spare['id']}/rotate", caller.api_key)
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["revoked"]["id"] == spare["id"] and rotated.json()["issued"]["name"] == "spare"
    requests_until_refused(stack, spare["key"])
    request_id_of_message(stack, rotated.json()["issued"]["key"])
    again = _call(stack, "POST", f"/v1/account/keys/{spare['id']}/rotate", caller.api_key)
    assert again.status_code == 409 and "already revoked" in again.json()["error"]["message"]


def test_a_key_may_revoke_itself_and_is_refused_afterwards(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    revoked = _call(stack, "POST", f"/v1/account/keys/{caller.key_id}/revoke", caller.api_key)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    requests_until_refused(stack, caller.api_key)
    assert _call(stack, "GET", "/v1/account/keys", caller.api_key).status_code == 401


def test_self_service_needs_a_valid_key_and_a_small_body(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    assert _call(stack, "GET", "/v1/account/keys", "sk-cg-nope").status_code == 401
    assert _call(stack, "POST", "/v1/account/keys", "sk-cg-nope", {"name": "x"}).status_code == 401
    for body in ({"name": 5}, {"name": "x", "rpm_limit": 0}, ["x"]):
        refused = _call(stack, "POST", "/v1/account/keys", caller.api_key, body)
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_request_error"
    too_long = _call(stack, "POST", "/v1/account/keys", caller.api_key, {"name": "x" * 101})
    assert too_long.status_code == 400 and "name" in too_long.json()["error"]["message"]


def test_self_service_keys_are_capped_per_account(stack: RunningStack, store: Store, stack_settings: Settings) -> None:
    caller = new_caller(store, stack_settings)
    for _ in range(SELF_SERVICE_ACTIVE_KEY_LIMIT - 1):
        assert _call(stack, "POST", "/v1/account/keys", caller.api_key).status_code == 201
    refused = _call(stack, "POST", "/v1/account/keys", caller.api_key)
    assert refused.status_code == 403 and "Revoke one first" in refused.json()["error"]["message"]


def _active_keys(store: Store, account_id: str) -> int:
    return sum(1 for record in store.api_keys.list_for_account(account_id) if not record.is_revoked)


def test_thirty_concurrent_key_creations_leave_at_most_twenty_active_keys(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)  # its own key is the first of the twenty
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda _: _call(stack, "POST", "/v1/account/keys", caller.api_key), range(30)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * (SELF_SERVICE_ACTIVE_KEY_LIMIT - 1) + [403] * (30 - SELF_SERVICE_ACTIVE_KEY_LIMIT + 1)
    assert _active_keys(store, caller.account.account_id) == SELF_SERVICE_ACTIVE_KEY_LIMIT
    assert store.api_keys.active_count(caller.account.account_id) == SELF_SERVICE_ACTIVE_KEY_LIMIT


def test_a_revoked_key_frees_its_place_under_the_limit(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    made = [_call(stack, "POST", "/v1/account/keys", caller.api_key).json() for _ in range(19)]
    assert _call(stack, "POST", "/v1/account/keys", caller.api_key).status_code == 403
    assert _call(stack, "POST", f"/v1/account/keys/{made[0]['id']}/revoke", caller.api_key).status_code == 200
    # Revoking it again changes nothing: the count goes down once per key.
    assert _call(stack, "POST", f"/v1/account/keys/{made[0]['id']}/revoke", caller.api_key).status_code == 409
    assert _call(stack, "POST", "/v1/account/keys", caller.api_key).status_code == 201
    assert _call(stack, "POST", "/v1/account/keys", caller.api_key).status_code == 403
    # A rotation issues one and revokes one: the count stays at the limit, and rotating still works.
    assert _call(stack, "POST", f"/v1/account/keys/{made[1]['id']}/rotate", caller.api_key).status_code == 201
    assert store.api_keys.active_count(caller.account.account_id) == _active_keys(store, caller.account.account_id)
    assert _active_keys(store, caller.account.account_id) == SELF_SERVICE_ACTIVE_KEY_LIMIT


def test_keys_an_admin_issued_count_against_the_self_service_limit(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    for _ in range(SELF_SERVICE_ACTIVE_KEY_LIMIT):  # an admin may go past it...
        issue_key(store, stack_settings, caller.account.account_id, name="ci")
    refused = _call(stack, "POST", "/v1/account/keys", caller.api_key)  # ...a holder then may not
    assert refused.status_code == 403
    assert f"already has {SELF_SERVICE_ACTIVE_KEY_LIMIT + 1} active keys" in refused.json()["error"]["message"]


def test_an_account_from_before_the_key_count_gets_it_from_its_listing(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    for _ in range(4):
        create_key(store, stack_settings, caller.account.account_id)
    # As if these five keys were written before the count existed.
    store.client.delete_item(
        TableName=stack_settings.api_keys_table, Key={"key_id": {"S": f"active-keys#{caller.account.account_id}"}}
    )
    assert store.api_keys.active_count(caller.account.account_id) is None
    assert _call(stack, "POST", "/v1/account/keys", caller.api_key).status_code == 201
    assert store.api_keys.active_count(caller.account.account_id) == 6


def test_a_suspended_account_cannot_manage_its_keys(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    assert store.accounts.set_status(caller.account.account_id, "suspended")
    first_answer_with_status(stack, caller.api_key, 403)
    assert _call(stack, "POST", "/v1/account/keys", caller.api_key).status_code == 403


def test_a_holders_usage_listing_refuses_since_after_until_like_the_admin_one(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    assert stack.admin_url is not None
    caller = new_caller(store, stack_settings)
    request_id_of_message(stack, caller.api_key)
    backwards = {"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}
    own = httpx.get(f"{stack.base_url}/v1/account/usage", params=backwards, headers={"x-api-key": caller.api_key})
    admins = httpx.get(f"{stack.admin_url}/v1/accounts/{caller.account.account_id}/usage", params=backwards)
    assert own.status_code == admins.status_code == 400, (own.text, admins.text)
    assert own.json()["error"] == admins.json()["error"]
    assert own.json()["error"]["type"] == "invalid_request_error" and "since" in own.json()["error"]["message"]

    # A range the right way round still lists the request just made.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    forwards = {"since": yesterday, "until": "2999-01-01T00:00:00Z"}
    listed = httpx.get(f"{stack.base_url}/v1/account/usage", params=forwards, headers={"x-api-key": caller.api_key})
    assert listed.status_code == 200 and len(listed.json()["data"]) == 1
