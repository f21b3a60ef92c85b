"""Fresh accounts and keys for a test, created through the same use-cases the admin tools use."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from codegateway.accounts_admin import create_account, create_key
from codegateway.records import Account
from codegateway.settings import Settings
from codegateway.store import Store


@dataclass
class TestCaller:
    account: Account
    key_id: str
    api_key: str


def new_caller(store: Store, settings: Settings, *, rpm_limit: int | None = None) -> TestCaller:
    account = create_account(store, settings, f"test-{secrets.token_hex(6)}@example.com")
    issued = create_key(store, settings, account.account_id, name="test", rpm_limit=rpm_limit)
    return TestCaller(account=account, key_id=issued.record.key_id, api_key=issued.plaintext)
