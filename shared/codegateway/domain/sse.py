"""Incremental text/event-stream parser over raw bytes. No I/O.

It sees the same bytes the client gets, in the same chunks, and keeps only the unfinished event
in memory. Line ends may be CRLF, LF or CR (WHATWG SSE); a CR at the end of a chunk is held back
until the next chunk says whether an LF follows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    name: str
    data: bytes


class SseParser:
    def __init__(self) -> None:
        self._partial_line = b""
        self._event_name = b""
        self._data_lines: list[bytes] = []
        self._fields_pending = False
        self._held_cr = False

    @property
    def at_event_boundary(self) -> bool:
        """True when the bytes so far end between events: a ping or error may be written now."""
        return not self._partial_line and not self._fields_pending and not self._held_cr

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if self._held_cr:
            chunk = b"\r" + chunk
            self._held_cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk = chunk[:-1]
                self._held_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        lines[0] = self._partial_line + lines[0]
        self._partial_line = lines.pop()
        events: list[SseEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SseEvent]:
        """The stream ended: a held-back CR was a line end after all."""
        if not self._held_cr:
            return []
        self._held_cr = False
        return self.feed(b"\n")

    def _line(self, line: bytes) -> SseEvent | None:
        if not line:
            event = None
            if self._data_lines:
                event = SseEvent((self._event_name or b"message").decode(), b"\n".join(self._data_lines))
            self._event_name = b""
            self._data_lines = []
            self._fields_pending = False
            return event
        if line.startswith(b":"):
            return None
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        self._fields_pending = True
        if name == b"data":
            self._data_lines.append(value)
        elif name == b"event":
            self._event_name = value
        return None
