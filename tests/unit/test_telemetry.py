"""EMF metrics per request, inside its log line: the names the template's alarms read, in the shape
CloudWatch reads (every metric the directive names is a member of the line, its dimensions too)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from codegateway.edge.telemetry import Telemetry
from codegateway.settings import Settings
from tests.support.telemetry import lines_written, logger_stream


def _blobs(capsys: pytest.CaptureFixture[str], fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The EMF blobs the request's telemetry wrote, each checked against the format's rules."""
    blobs = [line for line in lines_written(Telemetry(Settings(emit_metrics=True)), fields, capsys) if "_aws" in line]
    for blob in blobs:
        assert isinstance(blob["_aws"]["Timestamp"], int)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                assert all(isinstance(blob[name], str) for name in dimension_set)
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                assert all(isinstance(v, int | float) for v in (value if isinstance(value, list) else [value]))
    return blobs


def _value(blob: dict[str, Any], name: str) -> float:
    """A metric's one data point (Powertools writes it as a list of one)."""
    value = blob[name]
    return float(value[0] if isinstance(value, list) else value)


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
    assert [_value(blob, name) for name in ("Retries", "KeepalivesSent", "UpstreamErrors")] == [1, 3, 0]
    assert (blob["message"], blob["ttfb_ms"], _value(blob, "TimeToFirstByte")) == ("request", 12.5, 12.5)


def test_upstream_errors_are_counted_and_split_by_type(capsys: pytest.CaptureFixture[str]) -> None:
    total, by_type = _blobs(capsys, {"status": 504, "ended": "upstream_failed", "error_type": "timeout_error"})
    assert _value(total, "UpstreamErrors") == 1 and _value(total, "Http5xx") == 1
    assert by_type["error_type"] == "timeout_error" and _value(by_type, "UpstreamErrorsByType") == 1


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
    assert _value(blob, "SpeculativeSendsRefused") == 1
    (served,) = _blobs(capsys, {"status": 200, "speculative": True})
    assert "SpeculativeSendsRefused" not in _metric_names(served)


def test_a_log_line_holds_what_orjson_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    telemetry = Telemetry(Settings(emit_metrics=False))
    (line,) = lines_written(telemetry, {"status": 200, "output_tokens": 2**70, "model": "claude-é"}, capsys)
    assert (line["output_tokens"], line["model"], line["message"]) == (2**70, "claude-é", "request")
    assert "_aws" not in line  # metrics off (the local stack): a plain log line


def test_the_request_line_has_the_members_of_the_loggers_own_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """The request line is built without the Logger (its cost: docs/profiles/README.md), so a log query
    written for the Logger's lines must read it alike: the same members, the timestamp in one format."""
    telemetry = Telemetry(Settings(emit_metrics=False))
    with logger_stream(telemetry) as buffer:
        telemetry.logger.info("a line of the Logger's")
    logger_line = json.loads(buffer.getvalue())
    (line,) = lines_written(telemetry, {"status": 200, "error_type": None, "model": "claude-sonnet-4-5"}, capsys)
    assert set(logger_line) <= set(line)
    assert (line["level"], line["service"], line["message"]) == ("INFO", logger_line["service"], "request")
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}[+-]\d{4}")
    assert stamp.fullmatch(logger_line["timestamp"]) and stamp.fullmatch(line["timestamp"])
    assert "error_type" not in line  # as the Logger does: a member without a value is left out


def test_a_log_level_above_info_leaves_the_request_line_out(capsys: pytest.CaptureFixture[str]) -> None:
    # A service of its own: Powertools configures a service's logger once a process, at its first Logger.
    quiet = Settings(emit_metrics=False, log_level="WARNING", service_name="codegateway-quiet")
    assert lines_written(Telemetry(quiet), {"status": 200}, capsys) == []
    assert len(lines_written(Telemetry(Settings(emit_metrics=False)), {"status": 200}, capsys)) == 1
