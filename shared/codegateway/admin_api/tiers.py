"""Run the tier job now (what the hourly schedule does), within the admin function's time limit."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from codegateway.admin_api.context import AdminSettings, AdminStore
from codegateway.tiering.job import recompute_tiers

router = APIRouter(tags=["tiers"])

# Stop scanning new pages this long before Lambda's timeout, so the answer still goes out. A run
# cut short says so (`complete: false`); the scheduled run finishes the rest.
_FINISH_MARGIN_S = 5.0


class Recompute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = None


def _deadline(request: Request) -> float | None:
    context = request.scope.get("aws.context")
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    remaining_ms: int = context.get_remaining_time_in_millis()
    return time.monotonic() + remaining_ms / 1000 - _FINISH_MARGIN_S


@router.post("/v1/tiers/recompute")
def recompute(
    request: Request, store: AdminStore, settings: AdminSettings, body: Recompute | None = None
) -> dict[str, Any]:
    report = recompute_tiers(
        store,
        settings,
        as_of=(body.as_of if body and body.as_of else datetime.now(UTC).date()),
        now_epoch=int(time.time()),
        deadline_monotonic=_deadline(request),
    )
    return report.summary(max_failures_listed=50)
