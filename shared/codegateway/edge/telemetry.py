"""One structured log line and one EMF metrics blob per request, from the same metadata fields.

Under the Lambda Web Adapter there is no handler to flush Powertools Metrics, so each request
flushes its own (an EphemeralMetrics: no state shared between concurrent requests). Fields are
metadata only; the web layer never puts a body or a key in them.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from codegateway.domain.outcomes import UPSTREAM_ERROR_ENDINGS
from codegateway.settings import Settings

# Unknown model ids warned about per process; past this many, only the metric counts them (a client
# inventing ids must not grow the set without bound).
_MAX_UNKNOWN_MODELS_WARNED = 1000


class Telemetry:
    def __init__(self, settings: Settings) -> None:
        self.logger = Logger(service=settings.service_name, level=settings.log_level)
        self._emit_metrics = settings.emit_metrics
        self._namespace = settings.metrics_namespace
        self._service = settings.service_name
        self._unknown_models_warned: set[str] = set()

    def request_finished(self, fields: dict[str, Any]) -> None:
        self.logger.info("request", extra=fields)
        if fields.get("unknown_model"):
            self.unknown_model_admitted(str(fields.get("model")), str(fields.get("priced_as")))
        if self._emit_metrics:
            self.emit_metrics(fields)

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

    def emit_metrics(self, fields: dict[str, Any]) -> None:
        metrics = EphemeralMetrics(namespace=self._namespace, service=self._service)
        metrics.add_metric("Requests", MetricUnit.Count, 1)
        status = int(fields.get("status") or 0)
        if status >= 500:
            metrics.add_metric("Http5xx", MetricUnit.Count, 1)
        elif status >= 400:
            metrics.add_metric("Http4xx", MetricUnit.Count, 1)
        upstream_error = self.upstream_error_type(fields)
        metrics.add_metric("UpstreamErrors", MetricUnit.Count, 1 if upstream_error else 0)
        if "attempts" in fields:
            metrics.add_metric("Retries", MetricUnit.Count, max(0, int(fields["attempts"]) - 1))
        metrics.add_metric("KeepalivesSent", MetricUnit.Count, int(fields.get("keepalives", 0)))
        if "ttfb_ms" in fields:
            metrics.add_metric("TimeToFirstByte", MetricUnit.Milliseconds, float(fields["ttfb_ms"]))
        for name, metric in (("input_tokens", "InputTokens"), ("output_tokens", "OutputTokens")):
            if name in fields:
                metrics.add_metric(metric, MetricUnit.Count, int(fields[name]))
        if "billed_nano" in fields:
            metrics.add_metric("BilledNanoUsd", MetricUnit.Count, int(fields["billed_nano"]))
        if fields.get("spend_caps_over_80_percent"):
            # SpendCapNearlyReachedAlarm reads this: some key or account is past 80% of a cap.
            metrics.add_metric("SpendCapsOver80Percent", MetricUnit.Count, int(fields["spend_caps_over_80_percent"]))
        if fields.get("spend_cap"):
            metrics.add_metric("SpendCapRefusals", MetricUnit.Count, 1)
        if fields.get("speculative"):
            metrics.add_metric("SpeculativeSends", MetricUnit.Count, 1)
        if fields.get("speculation_refused"):
            # Sent upstream beside admission, then refused: the upstream call the operator pays for.
            metrics.add_metric("SpeculativeSendsRefused", MetricUnit.Count, 1)
        if fields.get("settlement_failed"):
            metrics.add_metric("SettlementFailures", MetricUnit.Count, 1)
        metrics.flush_metrics()
        if upstream_error:
            # The same count again, split by error type (a separate blob: EMF dimensions are per blob).
            by_type = EphemeralMetrics(namespace=self._namespace, service=self._service)
            by_type.add_dimension("error_type", upstream_error)
            by_type.add_metric("UpstreamErrorsByType", MetricUnit.Count, 1)
            by_type.flush_metrics()

    @staticmethod
    def upstream_error_type(fields: dict[str, Any]) -> str | None:
        if fields.get("ended") in UPSTREAM_ERROR_ENDINGS:
            return str(fields.get("error_type") or fields["ended"])
        upstream_status = int(fields.get("upstream_status") or 0)
        if upstream_status >= 500:
            return str(fields.get("error_type") or f"http_{upstream_status}")
        return None
