"""Percentiles, the printed table and the JSON file."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms_percentiles(seconds: Sequence[float], pcts: Sequence[int] = PERCENTILES) -> dict[str, float]:
    return {f"p{pct}": round(percentile(seconds, pct) * 1000, 2) for pct in pcts}


def difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """a - b, percentile by percentile."""
    return {name: round(a[name] - b[name], 2) for name in a}


@dataclass
class Section:
    title: str
    rows: list[list[str]] = field(default_factory=list)

    def row(self, label: str, *cells: object) -> None:
        self.rows.append([label, *(_cell(cell) for cell in cells)])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.2f}"
    return str(value)


def render(title: str, sections: Sequence[Section]) -> str:
    """One plain-text table: labels left-aligned, every other column right-aligned, widths shared."""
    columns = max((len(row) for section in sections for row in section.rows), default=1)
    widths = [0] * columns
    for section in sections:
        for row in section.rows:
            for index, cell in enumerate(row):
                widths[index] = max(widths[index], len(cell) + (2 if index == 0 else 0))
    lines = [title, "=" * len(title)]
    for section in sections:
        lines += ["", section.title]
        for row in section.rows:
            label, *cells = row
            text = ("  " + label).ljust(widths[0]) + "".join(
                "  " + cell.rjust(widths[index + 1]) for index, cell in enumerate(cells)
            )
            lines.append(text.rstrip())
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split()[1])
        memory_gib = round(total_kib / 1024 / 1024, 1)
    return {
        "cpu": cpu,
        "cores": _cores(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
