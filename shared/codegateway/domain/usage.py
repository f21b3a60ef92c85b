"""Token usage as the upstream reports it, merged across a stream's events. No I/O.

message_start carries input and cache counts; message_delta carries the cumulative output count and
may repeat (or, on some upstreams, first report) the others. Merge field by field, the last reported
value winning; never add message_start and message_delta together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@dataclass(slots=True)
class Iteration:
    """One sampling step of a request (usage.iterations[]): the executor's own ("message"), a
    compaction, an advisor's or a fallback's, each billed at its own model's rates."""

    type: str
    model: str | None
    usage: Usage


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
    # From the response, never the request: the upstream may serve a fast request at standard, and
    # a workspace default can set the geo (docs/reference/pricing.md, Fast mode / Data residency).
    speed: str | None = None
    inference_geo: str | None = None
    iterations: list[Iteration] = field(default_factory=list)
    stop_reason: str | None = None
    # Any content block reached the client (text, thinking, tool use).
    output_started: bool = False
    seen: set[str] = field(default_factory=set)

    def merge(self, reported: dict[str, Any] | None) -> None:
        if not reported:
            return
        for name in _TOKEN_FIELDS:
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
        for name in ("speed", "inference_geo"):
            if isinstance(reported.get(name), str):
                setattr(self, name, reported[name])
        iterations = reported.get("iterations")
        if isinstance(iterations, list) and iterations:
            self.iterations = [self._iteration(entry) for entry in iterations if isinstance(entry, dict)]

    def _iteration(self, reported: dict[str, Any]) -> Iteration:
        usage = Usage(speed=self.speed, inference_geo=self.inference_geo)
        usage.merge(reported)
        if isinstance(reported.get("stop_reason"), str):
            usage.stop_reason = reported["stop_reason"]
        usage.output_started = usage.output_tokens > 0
        model = reported.get("model")
        return Iteration(
            type=str(reported.get("type") or "message"), model=model if isinstance(model, str) else None, usage=usage
        )

    @property
    def cache_writes_by_ttl(self) -> tuple[int, int]:
        """(5-minute, 1-hour) cache-write tokens. The total and the split may come in different events
        (a split of zeros in message_start, the total in message_delta): whatever the total holds
        beyond the split is priced at the 5-minute rate, so no reported write goes unbilled
        (docs/reference/pricing.md, Cache writes)."""
        five = self.cache_write_5m_tokens or 0
        hour = self.cache_write_1h_tokens or 0
        return five + max(0, self.cache_creation_input_tokens - five - hour), hour

    @property
    def prompt_tokens(self) -> int:
        """Input + cache writes + cache reads: what Haiku 5.5's prompt-length bands measure."""
        return self.input_tokens + sum(self.cache_writes_by_ttl) + self.cache_read_input_tokens

    @property
    def refused_before_output(self) -> bool:
        """A refusal before any output is not billed, although usage shows tokens (docs/reference/pricing.md)."""
        return self.stop_reason == "refusal" and not self.output_started

    @property
    def reported_anything(self) -> bool:
        return bool(self.seen)
