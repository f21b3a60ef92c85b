"""Entry point of the tier function (template.yaml TiersFunction, `handler.handler`): EventBridge
Scheduler -> recompute every account's 90-day spend and markup (codegateway.tiering.job).

Nothing is built at import; settings, the DynamoDB client and the logger are built on the first
invocation and kept for warm ones. Imports only what the two layers ship (the codegateway package
without its cli/ and dev/, and layers/deps/requirements.txt).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from codegateway.settings import Settings
from codegateway.store import Store, build_store
from codegateway.tiering.job import TierRunReport, recompute_tiers

# Stop scanning new pages this long before Lambda's timeout, so the run still reports and flushes.
_FINISH_MARGIN_S = 30.0


class TierRunIncomplete(Exception):
    """Some accounts were not visited (a scan failed or time ran out): fail the invocation, so the
    Errors alarm fires and Lambda's async retry runs the (idempotent) job again."""


@dataclass(frozen=True)
class _Runtime:
    settings: Settings
    store: Store
    logger: Logger


@functools.cache
def _runtime() -> _Runtime:
    settings = Settings()
    return _Runtime(settings, build_store(settings), Logger(service=settings.service_name, level=settings.log_level))


def scheduled_day(event: dict[str, Any], now: datetime) -> date:
    """The UTC day the run was scheduled for: the Scheduler's `scheduled_time` (from the schedule's
    input, `<aws.scheduler.scheduled-time>`) or an EventBridge event's `time`; else today."""
    stamp = (event.get("scheduled_time") or event.get("time")) if isinstance(event, dict) else None
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).date()
        except ValueError:
            pass
    return now.astimezone(UTC).date()


def _emit_metrics(settings: Settings, report: TierRunReport) -> None:
    # AccountFailures (service=codegateway-tiers) is what the template's TierAccountFailuresAlarm reads.
    metrics = EphemeralMetrics(namespace=settings.metrics_namespace, service=settings.service_name)
    metrics.add_metric("AccountsScanned", MetricUnit.Count, report.accounts_scanned)
    metrics.add_metric("AccountsUpdated", MetricUnit.Count, report.accounts_updated)
    metrics.add_metric("TiersChanged", MetricUnit.Count, report.tiers_changed)
    metrics.add_metric("WriteConflicts", MetricUnit.Count, report.write_conflicts)
    metrics.add_metric("HoldsReleased", MetricUnit.Count, report.holds_released)
    # BalanceDriftAlarm reads AccountsReconciled.
    metrics.add_metric("AccountsReconciled", MetricUnit.Count, report.accounts_reconciled)
    metrics.add_metric("AvailableDriftNano", MetricUnit.Count, report.available_drift_nano)
    metrics.add_metric("AccountFailures", MetricUnit.Count, len(report.failures))
    metrics.add_metric("ScanFailures", MetricUnit.Count, len(report.scan_failures))
    metrics.add_metric("RunDuration", MetricUnit.Seconds, report.duration_s)
    metrics.flush_metrics()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runtime = _runtime()
    deadline = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - _FINISH_MARGIN_S
    report = recompute_tiers(
        runtime.store,
        runtime.settings,
        as_of=scheduled_day(event, datetime.now(UTC)),
        now_epoch=int(time.time()),
        deadline_monotonic=deadline,
        logger=runtime.logger,
    )
    _emit_metrics(runtime.settings, report)
    # Each failed account has its own log line already; the summary names only the first few.
    summary = report.summary(max_failures_listed=20)
    runtime.logger.info("tier run finished", extra=summary)
    if not report.complete:
        raise TierRunIncomplete(
            f"scan failures: {len(report.scan_failures)}, stopped early: {report.stopped_at_deadline}"
        )
    return summary
