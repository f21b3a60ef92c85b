"""The tier job's pure parts and its wiring: the 90-day window, when an account needs a write, the day a
scheduled event means, the names the template's alarm reads, and what the deployed handler may import."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement

from codegateway.dev.table_schema import load_template
from codegateway.domain.tiers import SPEND_WINDOW_DAYS, TierUpdate, spend_window, tier_update
from codegateway.settings import Settings

REPO = Path(__file__).resolve().parents[2]
USD = 1_000_000_000


def test_the_window_is_90_days_ending_on_the_day_itself() -> None:
    first, last = spend_window(date(2026, 11, 25))
    assert (first, last) == (date(2026, 8, 28), date(2026, 11, 25))
    assert (last - first).days + 1 == SPEND_WINDOW_DAYS


def test_a_window_crossing_a_leap_day_still_holds_90_days() -> None:
    first, last = spend_window(date(2028, 3, 31))
    assert first == date(2028, 1, 2) and (last - first).days == 89


@pytest.mark.parametrize(
    ("current", "spend_nano", "expected"),
    [
        ((0, 15_000), 0, None),
        ((0, 15_000), 9_990_000_000, TierUpdate(9_990_000_000, 15_000)),
        ((9_990_000_000, 15_000), 10 * USD, TierUpdate(10 * USD, 14_000)),
        ((150 * USD, 13_000), 150 * USD, None),
        ((5_000 * USD, 12_000), 0, TierUpdate(0, 15_000)),
        # A markup off the table (set by hand) is brought back to what the spend earns.
        ((150 * USD, 11_000), 150 * USD, TierUpdate(150 * USD, 13_000)),
    ],
)
def test_an_account_is_written_only_when_its_spend_or_markup_changes(
    current: tuple[int, int], spend_nano: int, expected: TierUpdate | None
) -> None:
    assert tier_update(*current, spend_nano) == expected


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tiers_handler_unit", REPO / "functions" / "tiers" / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


NOW = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "day"),
    [
        (json.loads((REPO / "events" / "tiers-scheduled.json").read_text()), date(2026, 11, 25)),
        ({"scheduled_time": "2026-11-24T23:59:59Z"}, date(2026, 11, 24)),
        ({"time": "2026-11-20T00:00:00Z", "detail-type": "Scheduled Event"}, date(2026, 11, 20)),
        ({"scheduled_time": "2026-11-25T01:00:00+05:00"}, date(2026, 11, 24)),  # UTC days
        ({}, date(2026, 11, 25)),
        ({"scheduled_time": "<aws.scheduler.scheduled-time>"}, date(2026, 11, 25)),
    ],
)
def test_the_run_is_for_the_scheduled_utc_day_else_today(event: dict[str, Any], day: date) -> None:
    assert _load_handler().scheduled_day(event, NOW) == day


def test_the_template_runs_this_handler_and_alarms_on_the_metric_it_emits() -> None:
    resources = load_template(REPO / "template.yaml")["Resources"]
    function = resources["TiersFunction"]["Properties"]
    module_name, function_name = function["Handler"].split(".")
    assert (REPO / function["CodeUri"] / f"{module_name}.py").is_file()
    assert callable(getattr(_load_handler(), function_name))
    alarm = resources["TierAccountFailuresAlarm"]["Properties"]
    service = function["Environment"]["Variables"]["CGW_SERVICE_NAME"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (Settings().metrics_namespace, "AccountFailures")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]
    assert '"AccountFailures"' in (REPO / "functions" / "tiers" / "handler.py").read_text()


def _layer_distributions() -> set[str]:
    """layers/deps/requirements.txt, the SDK the python3.13 runtime includes (boto3, botocore: see
    tests/infra/test_layer_pins.py), and everything those need."""
    lines = (REPO / "layers" / "deps" / "requirements.txt").read_text().splitlines()
    pending = [Requirement(line).name for line in lines if line.strip() and not line.startswith("#")]
    pending += ["boto3", "botocore"]
    found: set[str] = set()
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in found:
            continue
        found.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return found


def test_the_deployed_handler_imports_only_what_the_layers_and_the_runtime_ship() -> None:
    # The codegateway layer drops codegateway.cli and codegateway.dev (layers/codegateway/Makefile).
    probe = (
        "import json, sys; sys.path.insert(0, 'functions/tiers'); import handler; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, check=True).stdout)
    assert not [m for m in loaded if m.startswith(("codegateway.cli", "codegateway.dev"))]
    shipped = _layer_distributions()
    distributions = importlib.metadata.packages_distributions()
    outside = {
        top
        for top in {name.split(".")[0] for name in loaded}
        if top not in sys.stdlib_module_names
        and top not in {"handler", "codegateway", "_distutils_hack", "__main__"}
        and not top.startswith("_")
        and not {d.lower().replace("_", "-") for d in distributions.get(top, [])} & shipped
    }
    assert outside == set()
