"""Account and key use-cases shared by the admin API, the CLI, self-service and `cgw dev`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from codegateway.clock import now_iso
from codegateway.keys import generate_key, hash_key
from codegateway.records import ACTIVE, Account, ApiKeyRecord, TopUpEntry
from codegateway.settings import Settings
from codegateway.store import Store


@dataclass(frozen=True)
class IssuedKey:
    """A newly created key. `plaintext` is shown once and stored nowhere."""

    record: ApiKeyRecord
    plaintext: str


def new_account_id() -> str:
    return "acct_" + secrets.token_hex(10)


def create_account(store: Store, settings: Settings, email: str, name: str = "") -> Account:
    """A new active account holding the starter credit (raises EmailTaken for a known email)."""
    account = Account(
        account_id=new_account_id(),
        email=email.strip().lower(),
        status=ACTIVE,
        balance_nano=settings.starter_credit_nano,
        available_nano=settings.starter_credit_nano,
        markup_bp=settings.default_markup_bp,
        spend_90d_nano=0,
        created_at=now_iso(),
        name=name,
    )
    store.accounts.create(account)
    return account


def create_key(
    store: Store, settings: Settings, account_id: str, name: str = "", rpm_limit: int | None = None
) -> IssuedKey:
    presented = generate_key()
    record = ApiKeyRecord(
        key_id=presented.key_id,
        account_id=account_id,
        name=name,
        key_hash=hash_key(presented.plaintext, settings.bcrypt_rounds),
        created_at=now_iso(),
        rpm_limit=rpm_limit,
    )
    store.api_keys.put_new(record)
    return IssuedKey(record=record, plaintext=presented.plaintext)


def revoke_key(store: Store, key_id: str) -> bool:
    return store.api_keys.revoke(key_id, now_iso())


def top_up(store: Store, account_id: str, amount_nano: int, *, idempotency_key: str, actor: str, reason: str) -> bool:
    """Credit an account once per idempotency key, with a ledger entry saying who, when, how much, why.
    Returns False (and changes nothing) when the key was used before."""
    if amount_nano <= 0:
        raise ValueError("a top-up must be a positive amount")
    return store.ledger.top_up(
        account_id,
        amount_nano,
        TopUpEntry(idempotency_key, amount_nano, actor, reason, now_iso()),
    )
