"""CloudWatch's embedded metric format (EMF): metrics carried as members of a JSON log line.

A line holding an `_aws` member whose `CloudWatchMetrics` directive names some of the line's other
members is read by CloudWatch Logs as metrics: each named member's value is a data point, the
directive's dimension names are members holding strings. Specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

The proxy's request line carries its own metrics this way (telemetry.py): one JSON serialization and
one write a request. Powertools' Metrics, which the rarer metrics still use, validates every
`add_metric` (nine a request: 100-130 us of CPU in a hot loop, against about 10 us for this).
"""

from __future__ import annotations

import time
from typing import Any

COUNT = "Count"
MILLISECONDS = "Milliseconds"

# (name, unit, value): one data point.
Metric = tuple[str, str, float]


def embedded_metrics(
    namespace: str, dimensions: tuple[str, ...], metrics: list[Metric], *, now_s: float | None = None
) -> dict[str, Any]:
    """The members to merge into a log line that already holds each of `dimensions` as a string:
    every metric's value under its name, and the `_aws` directive naming them."""
    members: dict[str, Any] = {name: value for name, _, value in metrics}
    members["_aws"] = {
        "Timestamp": int((time.time() if now_s is None else now_s) * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": namespace,
                "Dimensions": [list(dimensions)],
                "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in metrics],
            }
        ],
    }
    return members
