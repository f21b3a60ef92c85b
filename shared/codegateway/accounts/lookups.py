"""Finding the account or key an admin (or key holder) names, with one NotFound answer for ids
that do not exist, are malformed, or belong to another account."""

from __future__ import annotations

import re

from codegateway.domain.records import Account, ApiKeyRecord
from codegateway.errors import NotFound
from codegateway.store import Store

_KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
# Account ids share the Accounts table with `email#...` claim items: an id with '#' is never an account.
_ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_account_id(text: str) -> bool:
    return bool(_ACCOUNT_ID_RE.match(text))


def get_account(store: Store, account_id: str) -> Account:
    account = store.accounts.get(account_id) if is_account_id(account_id) else None
    if account is None:
        raise NotFound(f"account {account_id}: no such account.")
    return account


def find_key(store: Store, key_id: str, *, account_id: str | None = None) -> ApiKeyRecord:
    """The key, if it exists (and, with `account_id`, belongs to that account). A key of another
    account answers exactly like a missing one: its existence is not the caller's business."""
    record = store.api_keys.get(key_id) if _KEY_ID_RE.match(key_id) else None
    if record is None or (account_id is not None and record.account_id != account_id):
        raise NotFound(f"key {key_id}: no such key" + (" in this account." if account_id else "."))
    return record
