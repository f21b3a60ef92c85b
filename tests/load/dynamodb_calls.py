"""The DynamoDB calls on the request path, each timed alone against the bench's DynamoDB, through the
same store code and client the proxy runs (store/dynamodb_http.py unless CGW_DYNAMODB_CLIENT=botocore),
one call at a time, no other load.

Before the first byte, an admitted request does: GetItem of the key and of the account (each at most
every record_max_age_s, else cached), the RPM window's conditional UpdateItem (skipped for unlimited
keys) and the balance hold's conditional UpdateItem. After the last content byte and before the
response ends: one TransactWriteItems (usage record + charge + daily rollup).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from codegateway.domain.clock import now_iso
from codegateway.domain.keys import parse_key
from codegateway.domain.records import Hold, UsageRecord
from codegateway.store import Store
from tests.load.streams import MODEL

CALLS = 50
HOLD_NANO = 50_000_000  # $0.05: about what the estimate holds for the bench's request


@dataclass
class CallTimes:
    """Wall time of each call, and the CPU the caller spent on it (the client: build, sign, parse)."""

    name: str
    seconds: list[float] = field(default_factory=list)
    client_cpu_s: list[float] = field(default_factory=list)

    def time(self, call: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        self.client_cpu_s.append(time.process_time() - cpu)
        self.seconds.append(time.perf_counter() - wall)


def _timed(name: str, call: Callable[[], object], times: int) -> CallTimes:
    timed = CallTimes(name)
    for _ in range(times):
        timed.time(call)
    return timed


def _usage_record(account_id: str, key_id: str, request_id: str) -> UsageRecord:
    return UsageRecord(
        account_id=account_id,
        request_id=request_id,
        created_at=now_iso(),
        key_id=key_id,
        model=MODEL,
        status=200,
        ended="completed",
        input_tokens=30,
        output_tokens=10,
        billed_nano=300_000,
        stream=True,
    )


def _hold_then_settle(store: Store, account_id: str, key_id: str, times: int) -> list[CallTimes]:
    """Each hold is settled right after it is made, so the account item stays the size it has in use."""
    reserve, settle = CallTimes("UpdateItem hold (reserve)"), CallTimes("TransactWriteItems (settle)")
    for _ in range(times):
        hold = Hold("req_bench_" + secrets.token_hex(12), HOLD_NANO, int(time.time()) + 900)
        reserve.time(partial(store.ledger.reserve, account_id, hold))
        settle.time(partial(store.ledger.settle, _usage_record(account_id, key_id, hold.request_id), hold))
    return [reserve, settle]


def time_request_path_calls(store: Store, account_id: str, api_key: str, times: int = CALLS) -> list[CallTimes]:
    presented = parse_key(api_key)
    assert presented is not None
    return [
        _timed("GetItem key", lambda: store.api_keys.get(presented.key_id), times),
        _timed("GetItem account", lambda: store.accounts.get(account_id), times),
        *_hold_then_settle(store, account_id, presented.key_id, times),
    ]
