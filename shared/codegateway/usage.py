"""Token usage as the upstream reports it, merged across a stream's events. No I/O.

message_start carries input and cache counts; message_delta carries the cumulative output count and
may repeat (or, on some upstreams, first report) the others. Merge field by field, the last reported
value winning; never add message_start and message_delta together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    # Total cache writes; when the split below is reported, it is priced by the split instead.
    cache_creation_input_tokens: int = 0
    cache_write_5m_tokens: int | None = None
    cache_write_1h_tokens: int | None = None
    cache_read_input_tokens: int = 0
    web_search_requests: int = 0
    speed: str | None = None
    seen: set[str] = field(default_factory=set)

    def merge(self, reported: dict[str, Any] | None) -> None:
        if not reported:
            return
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ):
            value = reported.get(name)
            if isinstance(value, int):
                setattr(self, name, value)
                self.seen.add(name)
        split = reported.get("cache_creation")
        if isinstance(split, dict):
            five = split.get("ephemeral_5m_input_tokens")
            hour = split.get("ephemeral_1h_input_tokens")
            if isinstance(five, int):
                self.cache_write_5m_tokens = five
            if isinstance(hour, int):
                self.cache_write_1h_tokens = hour
        server_tools = reported.get("server_tool_use")
        if isinstance(server_tools, dict) and isinstance(server_tools.get("web_search_requests"), int):
            self.web_search_requests = server_tools["web_search_requests"]
        if isinstance(reported.get("speed"), str):
            self.speed = reported["speed"]

    @property
    def cache_writes_by_ttl(self) -> tuple[int, int]:
        """(5-minute, 1-hour) cache-write tokens. The total and the split may come in different events
        (a split of zeros in message_start, the total in message_delta): whatever the total holds
        beyond the split is priced at the 5-minute rate, so no reported write goes unbilled."""
        five, hour = self.cache_write_5m_tokens or 0, self.cache_write_1h_tokens or 0
        return five + max(0, self.cache_creation_input_tokens - five - hour), hour

    @property
    def reported_anything(self) -> bool:
        return bool(self.seen)
