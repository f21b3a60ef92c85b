"""Authenticate a caller: key format -> one GetItem (or a record at most record_max_age_s old) ->
bcrypt once per key per process -> the key's account. Every failure is the same 401."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from codegateway.errors import AccountSuspended, AuthenticationFailed
from codegateway.expiring_cache import ExpiringCache
from codegateway.keys import VerifiedKeyCache, key_from_headers, parse_key
from codegateway.records import Account, ApiKeyRecord
from codegateway.store import Store


@dataclass(frozen=True, slots=True)
class Caller:
    key: ApiKeyRecord
    account: Account


class Authenticator:
    def __init__(
        self,
        store: Store,
        verified: VerifiedKeyCache,
        record_max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._verified = verified
        self._keys: ExpiringCache[str, ApiKeyRecord] = ExpiringCache(record_max_age_s, clock)
        self._accounts: ExpiringCache[str, Account] = ExpiringCache(record_max_age_s, clock)

    async def authenticate(self, x_api_key: str | None, authorization: str | None) -> Caller:
        presented = parse_key(key_from_headers(x_api_key, authorization))
        if presented is None:
            raise AuthenticationFailed()
        record = await self._key_record(presented.key_id)
        if record is None or record.is_revoked:
            raise AuthenticationFailed()
        if self._verified.is_known(presented, record.key_hash):
            accepted = self._verified.check(presented, record.key_hash)
        else:
            # bcrypt takes tens of milliseconds of CPU: keep it off the event loop.
            accepted = await asyncio.to_thread(self._verified.check, presented, record.key_hash)
        if not accepted:
            raise AuthenticationFailed()
        account = await self._account(record.account_id)
        if account is None:
            raise AuthenticationFailed()
        if not account.is_active:
            raise AccountSuspended()
        return Caller(key=record, account=account)

    async def _key_record(self, key_id: str) -> ApiKeyRecord | None:
        record = self._keys.get(key_id)
        if record is None:
            record = await asyncio.to_thread(self._store.api_keys.get, key_id)
            if record is not None:
                self._keys.put(key_id, record)
        return record

    async def _account(self, account_id: str) -> Account | None:
        account = self._accounts.get(account_id)
        if account is None:
            account = await asyncio.to_thread(self._store.accounts.get, account_id)
            if account is not None:
                self._accounts.put(account_id, account)
        return account
