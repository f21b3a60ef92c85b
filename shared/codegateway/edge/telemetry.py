"""One structured log line per request, its EMF metrics inside it (emf.py), from the same metadata
fields. Fields are metadata only; the web layer never puts a body or a key in them.

Under the Lambda Web Adapter there is no handler to flush Powertools Metrics, so the rarer metrics
(an upstream error by type, an unknown model) each flush an EphemeralMetrics of their own: no state
is shared between concurrent requests.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

import orjson
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from codegateway.domain.outcomes import UPSTREAM_ERROR_ENDINGS
from codegateway.edge.emf import COUNT, MILLISECONDS, Metric, embedded_metrics
from codegateway.settings import Settings

# Unknown model ids warned about per process; past this many, only the metric counts them (a client
# inventing ids must not grow the set without bound).
_MAX_UNKNOWN_MODELS_WARNED = 1000


def json_line(record: dict[str, Any]) -> str:
    """Powertools' serializer for the log lines: orjson (34 us a request line against json's 50 us),
    json for what orjson refuses (an integer past 64 bits)."""
    try:
        return orjson.dumps(record, default=str).decode()
    except TypeError:
        return json.dumps(record, default=str, separators=(",", ":"))


def _powertools_timestamp(now: float) -> str:
    """The `timestamp` member as Powertools' formatter writes it: 2026-12-03 16:41:14,313+0000."""
    local = time.localtime(now)
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', local)},{int(now % 1 * 1000):03d}{time.strftime('%z', local)}"


class Telemetry:
    def __init__(self, settings: Settings) -> None:
        self.logger = Logger(service=settings.service_name, level=settings.log_level, json_serializer=json_line)
        self._emit_metrics = settings.emit_metrics
        self._namespace = settings.metrics_namespace
        self._service = settings.service_name
        self._unknown_models_warned: set[str] = set()

    def request_finished(self, fields: dict[str, Any]) -> None:
        upstream_error = self.upstream_error_type(fields)
        metrics: dict[str, Any] = {}
        if self._emit_metrics:
            # The line's `service` member is the metrics' dimension.
            metrics = embedded_metrics(self._namespace, ("service",), self.request_metrics(fields, upstream_error))
        self._write_request_line(fields, metrics)
        if fields.get("unknown_model"):
            self.unknown_model_admitted(str(fields.get("model")), str(fields.get("priced_as")))
        if self._emit_metrics and upstream_error:
            # The upstream errors again, split by type: a blob of its own, as its dimensions differ.
            by_type = EphemeralMetrics(namespace=self._namespace, service=self._service)
            by_type.add_dimension("error_type", upstream_error)
            by_type.add_metric("UpstreamErrorsByType", MetricUnit.Count, 1)
            by_type.flush_metrics()

    def _write_request_line(self, fields: dict[str, Any], metrics: dict[str, Any]) -> None:
        """The request's line in the shape Powertools' Logger writes (its members, then the fields),
        built here: through the Logger (its record, caller lookup and formatter) a line cost 48 us of
        CPU, built here 9 us (docs/profiles/README.md). Every other line still goes through it."""
        if self.logger.log_level > logging.INFO:
            return
        line: dict[str, Any] = {
            "level": "INFO",
            "location": "request_finished",
            "message": "request",
            "timestamp": _powertools_timestamp(time.time()),
            "service": self._service,
        }
        line.update((name, value) for name, value in fields.items() if value is not None)
        line.update(metrics)
        trace_header = os.environ.get("_X_AMZN_TRACE_ID")
        if trace_header:
            line["xray_trace_id"] = trace_header.split(";")[0].replace("Root=", "")
        try:
            sys.stdout.write(json_line(line) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass  # as a logging handler does: a line that cannot be written does not fail the request

    def unknown_model_admitted(self, model_id: str, priced_as: str) -> None:
        """An id the catalog lacks was priced by its family: tell the operator once per id (the
        catalog needs the new model), and count every such request."""
        warned = self._unknown_models_warned
        if model_id not in warned and len(warned) < _MAX_UNKNOWN_MODELS_WARNED:
            warned.add(model_id)
            self.logger.warning(
                "model not in the pricing catalog: priced as the newest of its family",
                extra={"model": model_id, "priced_as": priced_as},
            )
        if self._emit_metrics:
            metrics = EphemeralMetrics(namespace=self._namespace, service=self._service)
            metrics.add_dimension("priced_as", priced_as)
            metrics.add_metric("UnknownModelRequests", MetricUnit.Count, 1)
            metrics.flush_metrics()

    @staticmethod
    def request_metrics(fields: dict[str, Any], upstream_error: str | None) -> list[Metric]:
        metrics: list[Metric] = [("Requests", COUNT, 1)]
        status = int(fields.get("status") or 0)
        if status >= 500:
            metrics.append(("Http5xx", COUNT, 1))
        elif status >= 400:
            metrics.append(("Http4xx", COUNT, 1))
        metrics.append(("UpstreamErrors", COUNT, 1 if upstream_error else 0))
        if "attempts" in fields:
            metrics.append(("Retries", COUNT, max(0, int(fields["attempts"]) - 1)))
        metrics.append(("KeepalivesSent", COUNT, int(fields.get("keepalives", 0))))
        if "ttfb_ms" in fields:
            metrics.append(("TimeToFirstByte", MILLISECONDS, float(fields["ttfb_ms"])))
        for name, metric in (("input_tokens", "InputTokens"), ("output_tokens", "OutputTokens")):
            if name in fields:
                metrics.append((metric, COUNT, int(fields[name])))
        if "billed_nano" in fields:
            metrics.append(("BilledNanoUsd", COUNT, int(fields["billed_nano"])))
        if fields.get("spend_caps_over_80_percent"):
            # SpendCapNearlyReachedAlarm reads this: some key or account is past 80% of a cap.
            metrics.append(("SpendCapsOver80Percent", COUNT, int(fields["spend_caps_over_80_percent"])))
        if fields.get("spend_cap"):
            metrics.append(("SpendCapRefusals", COUNT, 1))
        if fields.get("speculative"):
            metrics.append(("SpeculativeSends", COUNT, 1))
        if fields.get("speculation_refused"):
            # Sent upstream beside admission, then refused: the upstream call the operator pays for.
            metrics.append(("SpeculativeSendsRefused", COUNT, 1))
        if fields.get("settlement_failed"):
            metrics.append(("SettlementFailures", COUNT, 1))
        return metrics

    @staticmethod
    def upstream_error_type(fields: dict[str, Any]) -> str | None:
        if fields.get("ended") in UPSTREAM_ERROR_ENDINGS:
            return str(fields.get("error_type") or fields["ended"])
        upstream_status = int(fields.get("upstream_status") or 0)
        if upstream_status >= 500:
            return str(fields.get("error_type") or f"http_{upstream_status}")
        return None
