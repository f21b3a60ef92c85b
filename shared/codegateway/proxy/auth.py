"""Authenticate a caller: key format -> one GetItem (or a record at most max_age_s old) ->
bcrypt once per key per process -> the key's account. Every failure is the same 401."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from codegateway.domain.keys import VerifiedKeyCache, key_from_headers, parse_key
from codegateway.domain.records import Account, ApiKeyRecord
from codegateway.errors import AccountSuspended, AuthenticationFailed
from codegateway.proxy.exchange import Caller
from codegateway.proxy.record_cache import RecordCache
from codegateway.store import Store


class Authenticator:
    def __init__(
        self,
        store: Store,
        verified: VerifiedKeyCache,
        *,
        refresh_after_s: float,
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verified = verified
        self._keys: RecordCache[ApiKeyRecord] = RecordCache(
            _in_thread(store.api_keys.get), refresh_after_s=refresh_after_s, max_age_s=max_age_s, clock=clock
        )
        self._accounts: RecordCache[Account] = RecordCache(
            _in_thread(store.accounts.get), refresh_after_s=refresh_after_s, max_age_s=max_age_s, clock=clock
        )

    async def authenticate(self, x_api_key: str | None, authorization: str | None) -> Caller:
        presented = parse_key(key_from_headers(x_api_key, authorization))
        if presented is None:
            raise AuthenticationFailed()
        record = await self._keys.get(presented.key_id)
        if record is None or record.is_revoked:
            raise AuthenticationFailed()
        if self._verified.is_known(presented, record.key_hash):
            accepted = self._verified.check(presented, record.key_hash)
        else:
            # bcrypt takes tens of milliseconds of CPU: keep it off the event loop.
            accepted = await asyncio.to_thread(self._verified.check, presented, record.key_hash)
        if not accepted:
            raise AuthenticationFailed()
        account = await self._accounts.get(record.account_id)
        if account is None:
            raise AuthenticationFailed()
        if not account.is_active:
            raise AccountSuspended()
        return Caller(key=record, account=account)


def _in_thread[V](read: Callable[[str], V | None]) -> Callable[[str], Awaitable[V | None]]:
    """A blocking store read as a coroutine (boto's calls block; the event loop must not)."""

    async def read_in_thread(record_id: str) -> V | None:
        return await asyncio.to_thread(read, record_id)

    return read_in_thread
