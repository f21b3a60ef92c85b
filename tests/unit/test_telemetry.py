"""EMF metrics per request: the names the template's alarms read, and no prompt or key in them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codegateway.edge.telemetry import Telemetry
from codegateway.settings import Settings


def _blobs(capsys: pytest.CaptureFixture[str], fields: dict[str, Any]) -> list[dict[str, Any]]:
    Telemetry(Settings(emit_metrics=True)).emit_metrics(fields)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def _metric_names(blob: dict[str, Any]) -> set[str]:
    return {metric["Name"] for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}


def test_a_served_request_emits_its_counts(capsys: pytest.CaptureFixture[str]) -> None:
    fields = {
        "status": 200,
        "upstream_status": 200,
        "ended": "completed",
        "attempts": 2,
        "keepalives": 3,
        "ttfb_ms": 12.5,
        "input_tokens": 100,
        "output_tokens": 20,
        "billed_nano": 31_500_000,
    }
    (blob,) = _blobs(capsys, fields)
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CodeGateway"
    assert blob["service"] == "codegateway"
    assert {
        "Requests",
        "UpstreamErrors",
        "Retries",
        "KeepalivesSent",
        "TimeToFirstByte",
        "InputTokens",
        "OutputTokens",
        "BilledNanoUsd",
    } <= _metric_names(blob)
    assert (blob["Retries"], blob["KeepalivesSent"], blob["UpstreamErrors"]) == ([1.0], [3.0], [0.0])


def test_upstream_errors_are_counted_and_split_by_type(capsys: pytest.CaptureFixture[str]) -> None:
    total, by_type = _blobs(capsys, {"status": 504, "ended": "upstream_failed", "error_type": "timeout_error"})
    assert total["UpstreamErrors"] == [1.0] and total["Http5xx"] == [1.0]
    assert by_type["error_type"] == "timeout_error" and by_type["UpstreamErrorsByType"] == [1.0]


def test_an_unknown_model_is_warned_about_once_per_id_and_counted_every_time(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = Telemetry(Settings(emit_metrics=True))
    fields = {"status": 200, "model": "claude-opus-6", "priced_as": "claude-opus-5-5", "unknown_model": True}
    for _ in range(3):
        telemetry.request_finished(dict(fields))
    telemetry.request_finished({**fields, "model": "claude-opus-7"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    warnings = [record for record in caplog.records if record.levelname == "WARNING"]
    assert [(record.model, record.priced_as) for record in warnings] == [  # type: ignore[attr-defined]
        ("claude-opus-6", "claude-opus-5-5"),
        ("claude-opus-7", "claude-opus-5-5"),
    ]
    counted = [line for line in lines if "UnknownModelRequests" in line]
    assert len(counted) == 4 and all(line["priced_as"] == "claude-opus-5-5" for line in counted)


def test_a_refused_speculative_send_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    (blob,) = _blobs(capsys, {"status": 402, "speculative": True, "speculation_refused": True, "billed_nano": 0})
    assert {"SpeculativeSends", "SpeculativeSendsRefused"} <= _metric_names(blob)
    assert blob["SpeculativeSendsRefused"] == [1.0]
    (served,) = _blobs(capsys, {"status": 200, "speculative": True})
    assert "SpeculativeSendsRefused" not in _metric_names(served)
