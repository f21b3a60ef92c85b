"""What a proxy adds to a request, from the overhead run's timings (pure: no I/O).

The headline figure is per distribution, as the bench has always reported it: the proxy's p50 minus the
direct p50 (likewise p95, p99), each side's percentiles taken over its own requests. Because the sides
alternate round by round, the k-th request of each side ran at nearly the same moment, so the bench also
reports the paired figure: percentiles of (proxy TTFB - direct TTFB) within each round. The two agree
on a quiet machine; on a busy one the paired figure is the steadier, and p95 by distribution can even
come out below p50.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.load.overhead import SideTimings
from tests.load.report import difference, ms_percentiles

DIRECT = "direct"
# Where a workload's figures keep each proxy's rotation of its own with direct (bench.py).
OWN_ROTATION = "own_rotation"
MEASURES = ("ttfb_ms", "message_stop_ms", "ttlb_ms")


def side_figures(side: SideTimings) -> dict[str, dict[str, float]]:
    return {
        "ttfb_ms": ms_percentiles(side.ttfb_s),
        "message_stop_ms": ms_percentiles(side.message_stop_s),
        "ttlb_ms": ms_percentiles(side.ttlb_s),
    }


def paired_ms(proxy: SideTimings, direct: SideTimings) -> dict[str, float]:
    """Percentiles of the per-round differences in TTFB (ms)."""
    return ms_percentiles([mine - theirs for mine, theirs in zip(proxy.ttfb_s, direct.ttfb_s, strict=True)])


def workload_figures(sides: Mapping[str, SideTimings]) -> dict[str, Any]:
    """Each side's percentiles, and for each proxy what it added to the direct side."""
    figures = {name: side_figures(side) for name, side in sides.items()}
    added: dict[str, Any] = {}
    for name, side in sides.items():
        if name == DIRECT:
            continue
        added[name] = {measure: difference(figures[name][measure], figures[DIRECT][measure]) for measure in MEASURES}
        added[name]["ttfb_paired_ms"] = paired_ms(side, sides[DIRECT])
    return {"sides": figures, "added": added}


def share_of(added: Mapping[str, Any], proxy: str, other: str, pct: int = 50) -> float | None:
    """proxy's added TTFB over other's at one percentile (per distribution); None when other is absent
    or added nothing measurable."""
    if proxy not in added or other not in added:
        return None
    theirs = added[other]["ttfb_ms"][f"p{pct}"]
    return round(added[proxy]["ttfb_ms"][f"p{pct}"] / theirs, 3) if theirs > 0 else None
