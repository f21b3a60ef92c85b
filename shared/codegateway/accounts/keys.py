"""Key use-cases for admins (any account) and key holders (their own account): issue, list, find,
revoke, rotate. A key's plaintext exists only in the IssuedKey returned when it is made."""

from __future__ import annotations

from dataclasses import dataclass, replace

from codegateway.accounts.lookups import find_key, get_account
from codegateway.domain.clock import now_iso
from codegateway.domain.keys import generate_key, hash_key
from codegateway.domain.records import ApiKeyRecord
from codegateway.errors import Conflict, InvalidRequest, PermissionDenied
from codegateway.settings import Settings
from codegateway.store import KeyLimitReached, Store

MAX_KEY_NAME_CHARS = 100
MAX_RPM_LIMIT = 1_000_000
# The RPM cap is per key: a holder minting keys without bound would multiply it.
SELF_SERVICE_ACTIVE_KEY_LIMIT = 20


@dataclass(frozen=True)
class IssuedKey:
    """A newly created key. `plaintext` is shown once and stored nowhere."""

    record: ApiKeyRecord
    plaintext: str


@dataclass(frozen=True)
class RotatedKey:
    revoked: ApiKeyRecord
    issued: IssuedKey


def create_key(
    store: Store,
    settings: Settings,
    account_id: str,
    name: str = "",
    rpm_limit: int | None = None,
    *,
    active_limit: int | None = None,
    spend_caps: dict[str, int] | None = None,
) -> IssuedKey:
    """Write a new key for an account the caller already knows exists (no checks: see issue_key).
    With `active_limit`, the write itself refuses (KeyLimitReached) past that many live keys."""
    presented = generate_key()
    record = ApiKeyRecord(
        key_id=presented.key_id,
        account_id=account_id,
        name=name,
        key_hash=hash_key(presented.plaintext, settings.bcrypt_rounds),
        created_at=now_iso(),
        rpm_limit=rpm_limit,
        spend_caps=dict(spend_caps or {}),
    )
    store.api_keys.put_new(record, active_limit=active_limit)
    return IssuedKey(record=record, plaintext=presented.plaintext)


def revoke_key(store: Store, key_id: str) -> bool:
    return store.api_keys.revoke(key_id, now_iso())


def issue_key(
    store: Store, settings: Settings, account_id: str, *, name: str = "", rpm_limit: int | None = None
) -> IssuedKey:
    """A new key for an existing account (an admin's choice of name and RPM cap)."""
    get_account(store, account_id)
    return create_key(store, settings, account_id, _checked_name(name), _checked_rpm_limit(rpm_limit))


def issue_own_key(store: Store, settings: Settings, caller_key: ApiKeyRecord, *, name: str = "") -> IssuedKey:
    """A key holder's new key: it carries the RPM cap and spend caps of the key that made it, so no
    holder can mint a key with more room than their own."""
    return issue_self_service_key(
        store,
        settings,
        caller_key.account_id,
        name=name,
        rpm_limit=caller_key.rpm_limit,
        spend_caps=caller_key.spend_caps,
    )


def issue_self_service_key(
    store: Store,
    settings: Settings,
    account_id: str,
    *,
    name: str = "",
    rpm_limit: int | None = None,
    spend_caps: dict[str, int] | None = None,
) -> IssuedKey:
    """A key made by the account's holder (with a key, or signed in to the dashboard): at most
    SELF_SERVICE_ACTIVE_KEY_LIMIT live keys per account, enforced by the key write itself (a
    condition on the account's key count), so concurrent creations cannot pass it."""
    try:
        return create_key(
            store,
            settings,
            account_id,
            _checked_name(name),
            rpm_limit,
            active_limit=SELF_SERVICE_ACTIVE_KEY_LIMIT,
            spend_caps=spend_caps,
        )
    except KeyLimitReached as reached:
        raise PermissionDenied(
            f"This account already has {reached.active} active keys (the self-service limit is "
            f"{SELF_SERVICE_ACTIVE_KEY_LIMIT}). Revoke one first, or ask your gateway administrator."
        ) from None


def list_keys(store: Store, account_id: str) -> list[ApiKeyRecord]:
    """An account's keys, oldest first, revoked ones included. Listings never carry the hash."""
    get_account(store, account_id)
    return store.api_keys.list_for_account(account_id)


def revoke(store: Store, key_id: str, *, account_id: str | None = None) -> ApiKeyRecord:
    """Revoke a live key; it is refused by every gateway instance within a second."""
    record = find_key(store, key_id, account_id=account_id)
    revoked_at = now_iso()
    if not store.api_keys.revoke(key_id, revoked_at):
        raise _already_revoked(find_key(store, key_id))
    return replace(record, revoked_at=revoked_at)


def rotate_key(store: Store, settings: Settings, key_id: str, *, account_id: str | None = None) -> RotatedKey:
    """A new key with the old one's name, RPM cap and spend caps, and the old key revoked at once."""
    old = find_key(store, key_id, account_id=account_id)
    if old.is_revoked:
        raise _already_revoked(old)
    # New key first: a failure in between leaves two live keys (retry the revoke), never none.
    issued = create_key(store, settings, old.account_id, old.name, old.rpm_limit, spend_caps=old.spend_caps)
    revoked_at = now_iso()
    if not store.api_keys.revoke(key_id, revoked_at):
        # A concurrent rotation or revocation won: do not leave a second replacement alive.
        store.api_keys.revoke(issued.record.key_id, revoked_at)
        raise _already_revoked(find_key(store, key_id))
    return RotatedKey(revoked=replace(old, revoked_at=revoked_at), issued=issued)


def _checked_name(name: str) -> str:
    name = name.strip()
    if len(name) > MAX_KEY_NAME_CHARS:
        raise InvalidRequest(f"name: at most {MAX_KEY_NAME_CHARS} characters.")
    return name


def _checked_rpm_limit(rpm_limit: int | None) -> int | None:
    if rpm_limit is not None and not 0 <= rpm_limit <= MAX_RPM_LIMIT:
        raise InvalidRequest(f"rpm_limit: an integer from 0 (unlimited) to {MAX_RPM_LIMIT}, or null for the default.")
    return rpm_limit


def _already_revoked(record: ApiKeyRecord) -> Conflict:
    return Conflict(f"key {record.key_id}: already revoked at {record.revoked_at}.")
