"""cgw tiers recompute: the scheduled tier job (codegateway.tiering.job), run by hand against any DynamoDB."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from codegateway.cli.context import EXIT_FAILED, Admin, admin_command
from codegateway.cli.output import FormatOption, OutputFormat, note, print_json, print_record

if TYPE_CHECKING:
    from codegateway.tiering.job import TierRunReport

tiers_app = typer.Typer(help="Markup tiers from rolling 90-day spend.", no_args_is_help=True, add_completion=False)


@tiers_app.command()
@admin_command
def recompute(
    admin: Admin,
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of the 90-day window, YYYY-MM-DD (UTC; default: today)."),
    ] = None,
    segments: Annotated[
        int | None, typer.Option(min=1, max=64, help="Parallel scan segments (default: CGW_TIER_SCAN_SEGMENTS, 4).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Accounts worked on at once (default: CGW_TIER_WORKERS, 16).")
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Recompute every account's 90-day spend and markup now (what the hourly schedule does).

    Exits 1 if any account failed or the scan did not finish; running it again is always safe.
    """
    from aws_lambda_powertools import Logger

    from codegateway.tiering.job import recompute_tiers

    day = as_of.date() if as_of else datetime.now(UTC).date()
    report = recompute_tiers(
        admin.store,
        admin.settings,
        as_of=day,
        now_epoch=int(time.time()),
        segments=segments,
        max_workers=workers,
        # One line per failed account, on stderr: stdout stays the report alone.
        logger=Logger(service="codegateway-tiers-cli", logger_handler=logging.StreamHandler(sys.stderr)),
    )
    if output is OutputFormat.json:
        print_json(report.summary())
    else:
        _print_report(report)
    if report.failures or not report.complete:
        raise typer.Exit(EXIT_FAILED)


_REPORT_FIELDS = (
    "window", "accounts_scanned", "accounts_updated", "tiers_changed", "write_conflicts", "holds_released",
    "failure_count", "duration_s",
)  # fmt: skip


def _print_report(report: TierRunReport) -> None:
    summary = report.summary()
    window = f"{report.first_day} .. {report.as_of} (UTC days, both included)"
    print_record(
        "Tier recomputation",
        {**summary, "window": window, "duration_s": f"{report.duration_s:.1f}"},
        _REPORT_FIELDS,
    )
    for failure in report.failures:
        note(f"failed: {failure.account_id} ({failure.error_type})")
    for scan_failure in report.scan_failures:
        note(f"scan of segment {scan_failure.segment} failed ({scan_failure.error_type}): its other accounts wait")
    if report.stopped_at_deadline:
        note("stopped before the end of the scan")


def register_tier_commands(app: typer.Typer) -> None:
    app.add_typer(tiers_app, name="tiers")
