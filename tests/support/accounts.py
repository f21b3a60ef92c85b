"""Fresh accounts and keys for a test, created through the same use-cases the admin tools use."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from codegateway.accounts.accounts import create_account, top_up
from codegateway.accounts.keys import create_key
from codegateway.domain.records import Account
from codegateway.settings import Settings
from codegateway.store import Store


@dataclass
class ApiCaller:
    account: Account
    key_id: str
    api_key: str


def new_caller(store: Store, settings: Settings, *, rpm_limit: int | None = None, top_up_usd: int = 0) -> ApiCaller:
    account = create_account(store, settings, f"test-{secrets.token_hex(6)}@example.com")
    if top_up_usd:
        top_up(
            store,
            account.account_id,
            top_up_usd * 1_000_000_000,
            idempotency_key=secrets.token_hex(8),
            actor="tests",
            reason="test funding",
        )
    issued = create_key(store, settings, account.account_id, name="test", rpm_limit=rpm_limit)
    return ApiCaller(account=account, key_id=issued.record.key_id, api_key=issued.plaintext)
