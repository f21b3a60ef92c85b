"""The tier job: every account's rolling 90-day spend and markup, recomputed from its daily rollups.

The Accounts table is scanned in parallel segments, page by page; a bounded pool of workers visits each
account: one Query sums its rollups in the window, a conditional write sets spend_90d_nano and markup_bp
only when they changed, and holds whose requests can no longer be running are released. Safe to run
twice at once (each write checks the values it read) and beside live traffic (it never writes the
balance). A failure on one account is logged and reported; the others carry on.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger

from codegateway.domain.records import Account
from codegateway.domain.tiers import spend_window, tier_update
from codegateway.settings import Settings
from codegateway.store import Store

# Accounts per scan page. Small enough that a page's accounts spread over the workers quickly, large
# enough that the scan is a few hundred calls for 100,000 accounts.
PAGE_SIZE = 200
# The table is cut into this many scan segments per scanner thread, taken in a random order: a run cut
# short by its deadline leaves different accounts for the next run, not the same tail every hour.
SEGMENTS_PER_SCANNER = 8


class AccountFailure(NamedTuple):
    account_id: str
    error_type: str


class SegmentFailure(NamedTuple):
    segment: int
    error_type: str


@dataclass
class TierRunReport:
    as_of: date
    first_day: date
    accounts_scanned: int = 0
    # Accounts whose spend_90d_nano and/or markup_bp were written; tiers_changed counts the markup changes.
    accounts_updated: int = 0
    tiers_changed: int = 0
    # Writes refused because the values changed since the scan read them (another run wrote first).
    write_conflicts: int = 0
    holds_released: int = 0
    # Accounts whose available balance had drifted from balance - live holds, and by how much in all:
    # never expected (every movement is one transaction); the alarm on it asks a person to look.
    accounts_reconciled: int = 0
    available_drift_nano: int = 0
    failures: list[AccountFailure] = field(default_factory=list)
    # A segment whose scan failed leaves its remaining accounts unvisited: the run is incomplete.
    scan_failures: list[SegmentFailure] = field(default_factory=list)
    stopped_at_deadline: bool = False
    duration_s: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.scan_failures and not self.stopped_at_deadline

    def summary(self, max_failures_listed: int | None = None) -> dict[str, Any]:
        """The report as plain JSON values (for logs, the CLI's --format json and the handler's answer)."""
        return {
            "as_of": self.as_of.isoformat(),
            "window": [self.first_day.isoformat(), self.as_of.isoformat()],
            "accounts_scanned": self.accounts_scanned,
            "accounts_updated": self.accounts_updated,
            "tiers_changed": self.tiers_changed,
            "write_conflicts": self.write_conflicts,
            "holds_released": self.holds_released,
            "accounts_reconciled": self.accounts_reconciled,
            "available_drift_nano": self.available_drift_nano,
            "failure_count": len(self.failures),
            "failures": [failure._asdict() for failure in self.failures[:max_failures_listed]],
            "scan_failures": [failure._asdict() for failure in self.scan_failures],
            "stopped_at_deadline": self.stopped_at_deadline,
            "complete": self.complete,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class _AccountOutcome:
    updated: bool = False
    tier_changed: bool = False
    conflict: bool = False
    holds_released: int = 0
    available_drift_nano: int = 0
    failure: AccountFailure | None = None


class _TierRun:
    """One run's state: what it reads from, the window, and the report its threads add to."""

    def __init__(self, store: Store, settings: Settings, report: TierRunReport, now_epoch: int, logger: Logger) -> None:
        self._store = store
        self._tiers = settings.tiers
        self._first_day = report.first_day.isoformat()
        self._last_day = report.as_of.isoformat()
        self._now_epoch = now_epoch
        self._logger = logger
        self._report = report
        self._lock = threading.Lock()

    def visit(self, account: Account) -> _AccountOutcome:
        try:
            spend_nano = self._store.tiers.billed_spend_nano(account.account_id, self._first_day, self._last_day)
            update = tier_update(account.spend_90d_nano, account.markup_bp, spend_nano, self._tiers)
            written = update is not None and self._store.tiers.update_tier(
                account.account_id,
                expected_spend_nano=account.spend_90d_nano,
                expected_markup_bp=account.markup_bp,
                spend_90d_nano=update.spend_90d_nano,
                markup_bp=update.markup_bp,
            )
            released, drift = 0, 0
            # available == balance: nothing is held, so there is nothing to sweep or reconcile.
            if account.available_nano != account.balance_nano:
                released = self._store.balance_upkeep.release_expired_holds(account.account_id, self._now_epoch)
                drift = self._store.balance_upkeep.reconcile_available(account.account_id)
        except Exception as error:
            # Only the id and the error's type: messages may quote request data.
            self._logger.warning(
                "tier recomputation failed for an account",
                extra={"account_id": account.account_id, "error_type": type(error).__name__},
            )
            return _AccountOutcome(failure=AccountFailure(account.account_id, type(error).__name__))
        return _AccountOutcome(
            updated=written,
            tier_changed=written and update is not None and update.markup_bp != account.markup_bp,
            conflict=update is not None and not written,
            holds_released=released,
            available_drift_nano=drift,
        )

    def record(self, outcome: _AccountOutcome) -> None:
        with self._lock:
            report = self._report
            report.accounts_scanned += 1
            report.accounts_updated += outcome.updated
            report.tiers_changed += outcome.tier_changed
            report.write_conflicts += outcome.conflict
            report.holds_released += outcome.holds_released
            if outcome.available_drift_nano:
                report.accounts_reconciled += 1
                report.available_drift_nano += abs(outcome.available_drift_nano)
            if outcome.failure is not None:
                report.failures.append(outcome.failure)

    def scan_segment(
        self, segment: int, total_segments: int, page_size: int, workers: ThreadPoolExecutor, deadline: float | None
    ) -> None:
        """Visit every account of one scan segment, a page at a time (a page's accounts in parallel)."""
        cursor = None
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                with self._lock:
                    self._report.stopped_at_deadline = True
                return
            try:
                page = self._store.accounts.scan_page(
                    segment=segment, total_segments=total_segments, limit=page_size, cursor=cursor
                )
            except Exception as error:
                self._logger.error(
                    "tier recomputation could not scan a segment",
                    extra={"segment": segment, "error_type": type(error).__name__},
                )
                with self._lock:
                    self._report.scan_failures.append(SegmentFailure(segment, type(error).__name__))
                return
            for outcome in workers.map(self.visit, page.accounts):
                self.record(outcome)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def recompute_tiers(
    store: Store,
    settings: Settings,
    *,
    as_of: date,
    now_epoch: int,
    segments: int | None = None,
    max_workers: int | None = None,
    page_size: int = PAGE_SIZE,
    deadline_monotonic: float | None = None,
    logger: Logger | None = None,
) -> TierRunReport:
    """Recompute every account's spend_90d_nano and markup_bp as of the UTC day `as_of`.

    The spend is the sum of billed_nano over the account's daily rollups from as_of - 89 days through
    as_of, both inclusive: 90 UTC days, today's partial day included; a charge from as_of - 90 or earlier
    no longer counts. The markup is the configured tier (settings.tiers) that spend reaches. Holds that
    expired by `now_epoch` are released on the way. `segments` scan segments are read at once, feeding a
    pool of `max_workers` threads (defaults: settings.tier_scan_segments, settings.tier_workers). No new
    page is scanned after `deadline_monotonic` (time.monotonic()); the report then says the run stopped
    early.
    """
    segments = segments or settings.tier_scan_segments
    max_workers = max_workers or settings.tier_workers
    if segments < 1 or max_workers < 1 or page_size < 1:
        raise ValueError("segments, max_workers and page_size must be at least 1")
    first_day, last_day = spend_window(as_of)
    report = TierRunReport(as_of=last_day, first_day=first_day)
    run = _TierRun(store, settings, report, now_epoch, logger or Logger(service=settings.service_name))
    started = time.monotonic()
    with (
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tier-account") as workers,
        ThreadPoolExecutor(max_workers=segments, thread_name_prefix="tier-scan") as scanners,
    ):
        total_segments = segments * SEGMENTS_PER_SCANNER
        scans = [
            scanners.submit(run.scan_segment, segment, total_segments, page_size, workers, deadline_monotonic)
            for segment in random.sample(range(total_segments), total_segments)
        ]
        for scan in scans:
            scan.result()
    report.duration_s = time.monotonic() - started
    return report
