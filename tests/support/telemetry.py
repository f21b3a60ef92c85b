"""What a Telemetry writes for one request: its JSON log line and any Powertools Metrics blobs (both
written to the stdout of the moment, which capsys holds), and any line of Powertools' Logger (whose
handler keeps the stream it was first given, so it is pointed at a buffer here)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from codegateway.edge.telemetry import Telemetry


@contextlib.contextmanager
def logger_stream(telemetry: Telemetry) -> Iterator[io.StringIO]:
    """What the Logger's handler writes inside the block."""
    handler = telemetry.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    # Not setStream: it flushes the old stream, which may be an earlier test's capsys, closed.
    previous, handler.stream = handler.stream, buffer
    try:
        yield buffer
    finally:
        handler.stream = previous


def lines_written(
    telemetry: Telemetry, fields: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    with logger_stream(telemetry) as buffer:
        telemetry.request_finished(fields)
    text = buffer.getvalue() + capsys.readouterr().out
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
