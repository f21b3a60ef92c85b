"""Spend-cap use-cases shared by the admin API, the CLI and key self-service: set, remove and list
the caps of a key or an account, with each cap's use in its current period."""

from __future__ import annotations

from datetime import datetime

from codegateway.accounts.lookups import find_key, get_account
from codegateway.domain.clock import utc_now
from codegateway.domain.spend_caps import PERIODS, CapUse, CapWindow, windows_for
from codegateway.errors import InvalidRequest, NotFound
from codegateway.store import Store

# A guard against a typo (an extra zero or two), not a business rule.
MAX_CAP_NANO = 1_000_000 * 1_000_000_000


def _check_limit(limit_nano: int) -> None:
    if not 0 < limit_nano <= MAX_CAP_NANO:
        raise InvalidRequest("amount_usd: more than 0 and at most 1000000.")


def _period(period: str) -> str:
    if period not in PERIODS:
        raise InvalidRequest(f"period: one of {', '.join(PERIODS)}.")
    return period


def set_key_cap(store: Store, key_id: str, period: str, limit_nano: int, *, account_id: str | None = None) -> str:
    """A key's cap for the period, replacing any it had; returns the key's account id. Takes
    effect within a second (the proxy's key records are at most that old)."""
    _check_limit(limit_nano)
    record = find_key(store, key_id, account_id=account_id)
    if not store.api_keys.set_spend_caps(key_id, {**record.spend_caps, _period(period): limit_nano}):
        raise NotFound(f"key {key_id}: no such live key.")
    return record.account_id


def remove_key_cap(store: Store, key_id: str, period: str, *, account_id: str | None = None) -> str:
    record = find_key(store, key_id, account_id=account_id)
    caps = {name: nano for name, nano in record.spend_caps.items() if name != _period(period)}
    if caps == record.spend_caps:
        raise NotFound(f"key {key_id}: no {period} cap to remove.")
    store.api_keys.set_spend_caps(key_id, caps)
    return record.account_id


def set_account_cap(store: Store, account_id: str, period: str, limit_nano: int) -> None:
    _check_limit(limit_nano)
    account = get_account(store, account_id)
    store.accounts.set_spend_caps(account_id, {**account.spend_caps, _period(period): limit_nano})


def remove_account_cap(store: Store, account_id: str, period: str) -> None:
    account = get_account(store, account_id)
    caps = {name: nano for name, nano in account.spend_caps.items() if name != _period(period)}
    if caps == account.spend_caps:
        raise NotFound(f"account {account_id}: no {period} cap to remove.")
    store.accounts.set_spend_caps(account_id, caps)


def cap_uses(store: Store, account_id: str, *, now: datetime | None = None) -> list[CapUse]:
    """Every cap of the account and of its live keys, with what is spent or in flight this period."""
    now = now or utc_now()
    account = get_account(store, account_id)
    owners: list[tuple[str, CapWindow]] = [
        (account_id, window) for window in windows_for("", {}, account_id, account.spend_caps, now)
    ]
    for record in store.api_keys.list_for_account(account_id):
        if record.spend_caps and not record.is_revoked:
            owners += [(record.key_id, window) for window in windows_for(record.key_id, record.spend_caps, "", {}, now)]
    used = store.ledger.cap_use(account_id, [window.counter_id for _owner, window in owners])
    return [CapUse(window, owner, used[window.counter_id]) for owner, window in owners]
