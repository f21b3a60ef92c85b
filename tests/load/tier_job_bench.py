"""Time the tier job over many accounts on a fresh local DynamoDB (moto, as in the local stack).

    .venv/bin/python -m tests.load.tier_job_bench --accounts 10000

Seeds N accounts (a share of them active, with daily rollups spread over 120 days so some fall out of
the window), then times a first run (most accounts get a write) and a second, steady-state run (no
writes: what an hourly run mostly is), counting the DynamoDB calls and the job's own CPU time, and
prints what that means for 100,000 accounts on Lambda.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from codegateway.dev.processes import free_port, start_python_module, stop, wait_until_ready
from codegateway.dev.table_schema import create_tables, find_template
from codegateway.domain.records import Account
from codegateway.domain.tiers import spend_window
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from codegateway.store.dynamodb_http import DynamoDBHttpClient
from codegateway.tiering.job import TierRunReport, recompute_tiers
from tests.support.tier_tables import USD, batch_put, put_accounts, rollup_item

AS_OF = date(2026, 11, 25)
# Lambda gives one vCPU at 1,769 MB and CPU in proportion to memory below that (AWS Lambda docs).
LAMBDA_MB_PER_VCPU = 1769


class CallCounter:
    """Counts DynamoDB calls by operation: around the tables' client's one entry point, or through
    botocore's event hooks when the store has botocore's client."""

    def __init__(self, store: Store) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        client = store.client
        if isinstance(client, DynamoDBHttpClient):
            send = client.request

            def counted(operation: str, params: dict[str, Any]) -> dict[str, Any]:
                self._count_operation(operation)
                return send(operation, params)

            client.request = counted  # type: ignore[method-assign]
        else:
            client.meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self._count_operation(model.name)

    def _count_operation(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    def take(self) -> Counter[str]:
        with self._lock:
            taken, self.calls = self.calls, Counter()
        return taken


def seed(store: Store, settings: Settings, accounts: int, active_share: float, days_active: int) -> int:
    rng = random.Random(42)
    put_accounts(
        store,
        settings,
        (
            Account(f"acct_bench_{i:06d}", f"bench{i}@example.com", "active", 2 * USD, 2 * USD, 15_000, 0, "2026-01-01")
            for i in range(accounts)
        ),
    )
    rollups = [
        rollup_item(f"acct_bench_{i:06d}", AS_OF - timedelta(days=day), rng.randrange(1, 40 * USD))
        for i in range(accounts)
        if rng.random() < active_share
        for day in rng.sample(range(120), days_active)
    ]
    batch_put(store, settings.usage_table, rollups)
    return len(rollups)


def timed_run(store: Store, settings: Settings, counter: CallCounter, segments: int, workers: int) -> dict[str, Any]:
    counter.take()
    cpu_before, wall_before = time.process_time(), time.monotonic()
    report: TierRunReport = recompute_tiers(
        store, settings, as_of=AS_OF, now_epoch=int(time.time()), segments=segments, max_workers=workers
    )
    wall_s, cpu_s = time.monotonic() - wall_before, time.process_time() - cpu_before
    calls = counter.take()
    return {"report": report, "wall_s": wall_s, "cpu_s": cpu_s, "calls": calls, "total_calls": sum(calls.values())}


def print_run(name: str, run: dict[str, Any]) -> None:
    report: TierRunReport = run["report"]
    calls = ", ".join(f"{operation} {count}" for operation, count in sorted(run["calls"].items()))
    print(
        f"{name}: {report.accounts_scanned} accounts in {run['wall_s']:.1f} s "
        f"({report.accounts_scanned / run['wall_s']:.0f} accounts/s); updated {report.accounts_updated}, "
        f"markups changed {report.tiers_changed}, failures {len(report.failures)}; "
        f"{run['total_calls']} DynamoDB calls ({calls}); job CPU {run['cpu_s']:.1f} s "
        f"= {1000 * run['cpu_s'] / max(run['total_calls'], 1):.2f} ms per call"
    )


def print_projection(run: dict[str, Any], accounts: int, workers: int, timeout_s: int) -> None:
    """Scale the steady-state run to 100,000 accounts. Each call costs the job CPU (botocore: build,
    sign, parse) and waits for DynamoDB; the workers overlap the waits, but the CPU is one core's at
    most (the GIL) and Lambda gives a share of a core below 1,769 MB."""
    target = 100_000
    calls = run["total_calls"] * target / accounts
    cpu_s = run["cpu_s"] * target / accounts
    print(f"\n100,000 accounts, steady state: {calls:,.0f} calls, {cpu_s:.0f} s of job CPU on this machine.")
    for memory_mb in (512, 1024, LAMBDA_MB_PER_VCPU):
        vcpu = min(memory_mb / LAMBDA_MB_PER_VCPU, 1.0)
        for latency_ms in (5, 10):
            io_bound_s = calls * latency_ms / 1000 / workers
            cpu_bound_s = cpu_s / vcpu
            print(
                f"  {memory_mb:>4} MB ({vcpu:.2f} vCPU), {latency_ms:>2} ms per call, {workers} workers: "
                f"waits {io_bound_s:.0f} s, CPU {cpu_bound_s:.0f} s -> about {max(io_bound_s, cpu_bound_s):.0f} s "
                f"of the {timeout_s} s timeout"
            )


def check_sample(store: Store, settings: Settings, accounts: int) -> None:
    first, last = spend_window(AS_OF)
    for i in random.Random(7).sample(range(accounts), min(50, accounts)):
        account_id = f"acct_bench_{i:06d}"
        expected = store.tiers.billed_spend_nano(account_id, first.isoformat(), last.isoformat())
        account = store.accounts.get(account_id)
        assert account is not None and account.spend_90d_nano == expected, account_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    # moto's Query walks every item of the table (not just the partition), so the rollup count, not the
    # job, sets moto's time per Query; keep it modest for 10,000 accounts.
    parser.add_argument("--active-share", type=float, default=0.02, help="share of accounts with rollups")
    parser.add_argument("--days-active", type=int, default=5, help="rollup days per active account (of 120)")
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--lambda-timeout-s", type=int, default=300, help="TiersFunction Timeout")
    args = parser.parse_args()

    port = free_port()
    server = start_python_module(["codegateway.dev.dynamodb_server", "--port", str(port)])
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_ready(endpoint + "/moto-api/", server)
        settings = Settings(dynamodb_endpoint=endpoint, dynamodb_timeout_s=30)
        store = build_store(settings)
        create_tables(store.client, find_template(), settings)
        started = time.monotonic()
        rollups = seed(store, settings, args.accounts, args.active_share, args.days_active)
        print(f"Seeded {args.accounts} accounts and {rollups} daily rollups in {time.monotonic() - started:.0f} s.")
        print(f"Machine: {os.cpu_count()} cores; moto serialises requests; {datetime.now(UTC):%Y-%m-%d}.")
        counter = CallCounter(store)
        first = timed_run(store, settings, counter, args.segments, args.workers)
        print_run("First run", first)
        steady = timed_run(store, settings, counter, args.segments, args.workers)
        print_run("Second run", steady)
        check_sample(store, settings, args.accounts)
        print_projection(steady, args.accounts, args.workers, args.lambda_timeout_s)
    finally:
        stop(server)


if __name__ == "__main__":
    main()
