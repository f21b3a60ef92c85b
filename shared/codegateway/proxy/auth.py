"""Authenticate a caller: key format -> one GetItem (or a record at most max_age_s old) ->
bcrypt once per key per process -> the key's account (read beside the key once the key is known).
Every failure is the same 401.

A new key's first requests often arrive together (an agent opening several streams): they share one
bcrypt run (single flight) instead of each spending tens of milliseconds of CPU on the same check.
Runs are shared per (key id, stored hash, digest of the presented secret) only, so a wrong secret
never rides on a right one's result.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from codegateway.domain.keys import PresentedKey, VerifiedKeyCache, key_from_headers, parse_key
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
        self._bcrypt_runs: dict[tuple[str, str, bytes], asyncio.Task[bool]] = {}
        self._keys: RecordCache[ApiKeyRecord] = RecordCache(
            store.api_keys.get_from_loop, refresh_after_s=refresh_after_s, max_age_s=max_age_s, clock=clock
        )
        self._accounts: RecordCache[Account] = RecordCache(
            store.accounts.get_from_loop, refresh_after_s=refresh_after_s, max_age_s=max_age_s, clock=clock
        )

    async def authenticate(
        self, x_api_key: str | None, authorization: str | None, log_fields: dict[str, Any] | None = None
    ) -> Caller:
        """The caller; `log_fields`, when given, learns whether this request waited for bcrypt."""
        presented = parse_key(key_from_headers(x_api_key, authorization))
        if presented is None:
            raise AuthenticationFailed()
        known = self._keys.last_known(presented.key_id)
        if known is not None and not known.is_revoked:
            # A key's account never changes: once both records are due, read them side by side,
            # not one round trip after the other (an agent's requests come seconds apart, past max_age_s).
            self._accounts.read_ahead(known.account_id)
        record = await self._keys.get(presented.key_id)
        if record is None or record.is_revoked:
            raise AuthenticationFailed()
        if self._verified.is_known(presented, record.key_hash):
            accepted = self._verified.check(presented, record.key_hash)
        else:
            accepted = await self._bcrypt_once(presented, record.key_hash, log_fields)
        if not accepted:
            raise AuthenticationFailed()
        account = await self._accounts.get(record.account_id)
        if account is None:
            raise AuthenticationFailed()
        if not account.is_active:
            raise AccountSuspended()
        return Caller(key=record, account=account)

    async def _bcrypt_once(self, presented: PresentedKey, stored_hash: str, log_fields: dict[str, Any] | None) -> bool:
        attempt = self._verified.attempt_of(presented, stored_hash)
        run = self._bcrypt_runs.get(attempt)
        if log_fields is not None:
            log_fields["key_check"] = "bcrypt" if run is None else "bcrypt_shared"
        if run is None:
            # bcrypt takes tens of milliseconds of CPU: keep it off the event loop.
            run = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self._verified.check, presented, stored_hash)
            )
            self._bcrypt_runs[attempt] = run
            run.add_done_callback(lambda done: self._bcrypt_ran(attempt, done))
        # Shielded: one caller going away must not cancel the check the others wait for.
        return await asyncio.shield(run)

    def _bcrypt_ran(self, attempt: tuple[str, str, bytes], run: asyncio.Task[bool]) -> None:
        del self._bcrypt_runs[attempt]
        # Every waiter may have gone: an error left unread is theirs, not one to log as unretrieved.
        if not run.cancelled():
            run.exception()
