"""Account and balance use-cases shared by the admin API, the CLI, self-service and `cgw dev`:
open, find, list, suspend/resume, credit (once per idempotency key) and the credit ledger."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from codegateway.accounts.lookups import get_account, is_account_id
from codegateway.domain.clock import now_iso
from codegateway.domain.pricing import nano_to_usd_str
from codegateway.domain.records import ACTIVE, SUSPENDED, Account, TopUpEntry
from codegateway.errors import Conflict, GatewayError, InvalidRequest, NotFound
from codegateway.settings import Settings
from codegateway.store import EmailTaken, Store, decode_cursor, encode_cursor

__all__ = [
    "AccountListing",
    "Credit",
    "create_account",
    "credit_account",
    "get_account",
    "ledger_entries",
    "list_accounts",
    "resume_account",
    "set_overdraft_limit",
    "suspend_account",
    "top_up",
]

MAX_NAME_CHARS = 200
# A guard against a typo, not a business rule: an overdraft is credit the operator extends unsecured.
MAX_OVERDRAFT_NANO = 10_000 * 1_000_000_000
MAX_REASON_CHARS = 500
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# Visible ASCII: a UUID, an invoice number, "2026-11-topup-acme"...
_IDEMPOTENCY_KEY_RE = re.compile(r"^[!-~]{1,200}$")


@dataclass(frozen=True)
class AccountListing:
    accounts: list[Account]
    next_cursor: str | None


@dataclass(frozen=True)
class Credit:
    """The outcome of a top-up request: `applied` is False when the idempotency key was used before
    (then `entry` is the credit that key made, and nothing changed)."""

    applied: bool
    entry: TopUpEntry
    account: Account


def new_account_id() -> str:
    return "acct_" + secrets.token_hex(10)


def create_account(store: Store, settings: Settings, email: str, name: str = "") -> Account:
    """A new active account holding the starter credit. Conflict (409) for an email with an account."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise InvalidRequest("email: expected an email address, e.g. ada@example.com.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"name: at most {MAX_NAME_CHARS} characters.")
    account = Account(
        account_id=new_account_id(),
        email=email,
        status=ACTIVE,
        balance_nano=settings.starter_credit_nano,
        available_nano=settings.starter_credit_nano,
        markup_bp=settings.default_markup_bp,
        spend_90d_nano=0,
        created_at=now_iso(),
        name=name.strip(),
        overdraft_nano=settings.default_overdraft_nano,
    )
    try:
        store.accounts.create(account)
    except EmailTaken:
        raise Conflict(f"email {email}: an account with this email exists already.") from None
    return account


def list_accounts(store: Store, *, limit: int = 100, cursor: str | None = None) -> AccountListing:
    """One page of accounts (in the table's order, not by date), at most `limit` of them."""
    try:
        start = decode_cursor(cursor) if cursor else None
    except ValueError:
        raise InvalidRequest("page: not a cursor this listing returned.") from None
    accounts: list[Account] = []
    # The scan skips email-claim items after reading them, so one page can come back short (even
    # empty) with more to come: read on, never past `limit` items, so the cursor stays exact.
    while True:
        page = store.accounts.scan_page(limit=limit - len(accounts), cursor=start)
        accounts.extend(page.accounts)
        start = page.next_cursor
        if start is None or len(accounts) >= limit:
            return AccountListing(accounts, encode_cursor(start))


def suspend_account(store: Store, account_id: str) -> Account:
    """Refuse the account's keys (403 within a second); its balance and keys are kept."""
    return _set_status(store, account_id, SUSPENDED)


def resume_account(store: Store, account_id: str) -> Account:
    return _set_status(store, account_id, ACTIVE)


def set_overdraft_limit(store: Store, account_id: str, overdraft_nano: int) -> Account:
    """How far below zero the account's balance may go while its admitted streams finish. Takes
    effect within a second (the proxy's account records are at most that old)."""
    if overdraft_nano < 0 or overdraft_nano > MAX_OVERDRAFT_NANO:
        raise InvalidRequest(f"overdraft: from 0 to {nano_to_usd_str(MAX_OVERDRAFT_NANO)} USD.")
    if not is_account_id(account_id) or not store.accounts.set_overdraft(account_id, overdraft_nano):
        raise NotFound(f"account {account_id}: no such account.")
    return get_account(store, account_id)


def _set_status(store: Store, account_id: str, status: str) -> Account:
    if not is_account_id(account_id) or not store.accounts.set_status(account_id, status):
        raise NotFound(f"account {account_id}: no such account.")
    return get_account(store, account_id)


def top_up(store: Store, account_id: str, amount_nano: int, *, idempotency_key: str, actor: str, reason: str) -> bool:
    """Credit an account once per idempotency key, with a ledger entry saying who, when, how much, why.
    Returns False (and changes nothing) when the key was used before."""
    if amount_nano <= 0:
        raise ValueError("a top-up must be a positive amount")
    return store.balance_upkeep.top_up(
        account_id,
        amount_nano,
        TopUpEntry(idempotency_key, amount_nano, actor, reason, now_iso()),
    )


def credit_account(
    store: Store, account_id: str, amount_nano: int, *, idempotency_key: str, actor: str, reason: str
) -> Credit:
    """A checked top-up. The idempotency key is per account: the same key again changes nothing and
    says so; the same key with another amount is a Conflict (a retry must repeat the request)."""
    if not _IDEMPOTENCY_KEY_RE.match(idempotency_key):
        raise InvalidRequest("Idempotency-Key: 1 to 200 visible ASCII characters, e.g. a UUID or an invoice number.")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise InvalidRequest(f"reason: say why (1 to {MAX_REASON_CHARS} characters); it goes in the ledger.")
    get_account(store, account_id)
    applied = top_up(store, account_id, amount_nano, idempotency_key=idempotency_key, actor=actor, reason=reason)
    entry = store.topups.get(account_id, idempotency_key)
    if entry is None:
        raise GatewayError("The top-up's ledger entry could not be read back; check the ledger before retrying.")
    if not applied and entry.amount_nano != amount_nano:
        raise Conflict(
            f"Idempotency-Key {idempotency_key}: already used on {entry.created_at} for a top-up of "
            f"{nano_to_usd_str(entry.amount_nano)} USD; nothing changed. Use a new key for a new top-up."
        )
    return Credit(applied=applied, entry=entry, account=get_account(store, account_id))


def ledger_entries(store: Store, account_id: str) -> list[TopUpEntry]:
    """Every credit of an account, newest first."""
    get_account(store, account_id)
    return store.topups.list_for_account(account_id)
