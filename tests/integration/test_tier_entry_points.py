"""The tier job's two entry points on the local DynamoDB: the Lambda handler, invoked as Lambda would
with events/tiers-scheduled.json and the environment the template gives it, and `cgw tiers recompute`."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from codegateway.accounts.accounts import create_account
from codegateway.cli import app
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.stack import RunningStack
from tests.support.tier_tables import USD, fresh_tables, put_rollups, tier_state

REPO = Path(__file__).resolve().parents[2]
SCHEDULED_EVENT = json.loads((REPO / "events" / "tiers-scheduled.json").read_text())


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tiers_handler", REPO / "functions" / "tiers" / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a fresh module each time: its cached runtime starts cold
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    aws_request_id = "test-invocation"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def handler_env(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Store]]:
    with fresh_tables(stack.dynamodb_endpoint) as (settings, store):
        # What template.yaml gives TiersFunction, with the local DynamoDB's endpoint.
        monkeypatch.setenv("CGW_DYNAMODB_ENDPOINT", stack.dynamodb_endpoint)
        monkeypatch.setenv("CGW_ACCOUNTS_TABLE", settings.accounts_table)
        monkeypatch.setenv("CGW_API_KEYS_TABLE", settings.api_keys_table)
        monkeypatch.setenv("CGW_USAGE_TABLE", settings.usage_table)
        monkeypatch.setenv("CGW_RATE_LIMITS_TABLE", settings.rate_limits_table)
        monkeypatch.setenv("CGW_SERVICE_NAME", "codegateway-tiers")
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "codegateway-tiers")
        monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "CodeGateway")
        yield settings, store


def _metric_blobs(output: str) -> list[dict[str, Any]]:
    return [blob for line in output.splitlines() if line.startswith("{") and "_aws" in (blob := json.loads(line))]


def test_the_scheduled_event_recomputes_tiers_and_emits_the_metrics_the_alarm_reads(
    handler_env: tuple[Settings, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, store = handler_env
    account_id = create_account(store, settings, "handler@example.com").account_id
    put_rollups(store, settings, account_id, {date(2026, 11, 25): 150 * USD, date(2026, 8, 27): 900 * USD})
    handler = load_handler()

    summary = handler.handler(SCHEDULED_EVENT, LambdaContext())
    again = handler.handler(SCHEDULED_EVENT, LambdaContext())

    # The window ends on the scheduled day: 2026-11-25 back to 2026-08-28, so the 900 USD day is out.
    assert summary["window"] == ["2026-08-28", "2026-11-25"]
    assert tier_state(store, account_id) == (150 * USD, 13_000)
    assert (summary["accounts_scanned"], summary["tiers_changed"], summary["failure_count"]) == (1, 1, 0)
    assert (again["accounts_updated"], again["tiers_changed"]) == (0, 0)
    assert handler._runtime.cache_info().misses == 1  # built once, reused when warm
    (blob, _) = _metric_blobs(capsys.readouterr().out)
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "CodeGateway"
    assert blob["service"] == "codegateway-tiers" and ["service"] in directive["Dimensions"]
    assert {metric["Name"] for metric in directive["Metrics"]} >= {
        "AccountsScanned", "TiersChanged", "HoldsReleased", "AccountFailures",
    }  # fmt: skip
    assert (blob["AccountsScanned"], blob["TiersChanged"], blob["AccountFailures"]) == ([1.0], [1.0], [0.0])


def test_an_event_without_a_time_runs_for_today(handler_env: tuple[Settings, Store]) -> None:
    summary = load_handler().handler({}, LambdaContext())
    assert summary["as_of"] == datetime.now(UTC).date().isoformat()
    assert summary["complete"] is True


def test_cgw_tiers_recompute_runs_the_same_job_and_prints_json_for_scripts(handler_env: tuple[Settings, Store]) -> None:
    settings, store = handler_env
    account_id = create_account(store, settings, "cli@example.com").account_id
    put_rollups(store, settings, account_id, {date(2026, 6, 1): 10 * USD})
    command = ["tiers", "recompute", "--as-of", "2026-08-29", "--segments", "2", "--workers", "2", "--format", "json"]

    result = CliRunner().invoke(app, command)

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["window"] == ["2026-06-01", "2026-08-29"]
    assert (summary["accounts_scanned"], summary["tiers_changed"]) == (1, 1)
    assert tier_state(store, account_id) == (10 * USD, 14_000)


def test_cgw_tiers_recompute_prints_a_table_and_refuses_a_bad_date(
    handler_env: tuple[Settings, Store], stack: RunningStack
) -> None:
    table = CliRunner().invoke(app, ["tiers", "recompute", "--endpoint-url", stack.dynamodb_endpoint])
    assert table.exit_code == 0, table.output
    assert "tiers_changed" in table.stdout and "accounts_scanned" in table.stdout
    refused = CliRunner().invoke(app, ["tiers", "recompute", "--as-of", "25/11/2026"])
    assert refused.exit_code == 2
