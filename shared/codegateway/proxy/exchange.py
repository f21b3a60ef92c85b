"""The request path's two core types: who is calling (Caller) and one request on its way through the
gateway (Exchange)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from codegateway.domain.clock import utc_now
from codegateway.domain.message_request import MessageRequest
from codegateway.domain.outcomes import ApiSurface
from codegateway.domain.records import Account, ApiKeyRecord, Hold
from codegateway.domain.spend_caps import CapWindow


@dataclass(frozen=True, slots=True)
class Caller:
    key: ApiKeyRecord
    account: Account


@dataclass(slots=True)
class Exchange:
    """One client request on its way through the gateway."""

    request_id: str
    caller: Caller
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    started: float
    deadline: float
    created_at: str = ""
    message: MessageRequest | None = None
    # Set by admission for metered requests; count_tokens has none.
    hold: Hold | None = None
    attempts: int = 0
    session_id: str | None = None
    agent_id: str | None = None
    upstream_request_id: str | None = None
    source: ApiSurface = ApiSurface.ANTHROPIC
    log_fields: dict[str, Any] = field(default_factory=dict)
    # The spend caps this request is counted on, and the headers that show the key's use of them.
    cap_windows: tuple[CapWindow, ...] = ()
    extra_response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    # Fills extra_response_headers while the upstream call runs (admission.py).
    cap_use_shown: asyncio.Task[None] | None = None

    @property
    def priced_at(self) -> datetime:
        """The moment whose rates apply (prices change on dates): when the request was made."""
        return datetime.fromisoformat(self.created_at) if self.created_at else utc_now()
