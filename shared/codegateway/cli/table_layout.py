"""Fit a table to the terminal: which columns, and how each cell is written, for a given width. No I/O.

Ids are never broken across lines: when the table is too wide they are shortened to the shortest prefix
that still tells the rows apart (like git's short hashes), then the least useful columns are left out.
Times lose their date when every row is from the same day. `--format json|csv` always has everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ID_COLUMNS = frozenset({"id", "request_id", "key_id", "account_id", "session_id", "idempotency_key"})
TIME_COLUMNS = frozenset({"created_at", "revoked_at", "time"})
# Left out first when nothing else makes the table fit (earlier in this list: left out sooner).
DROP_ORDER = (
    "name", "markup", "held_usd", "ended", "cache_creation_input_tokens", "cache_read_input_tokens", "session_id",
    "idempotency_key", "actor", "revoked_at", "tier", "available_usd", "key_id", "stream", "source", "created_at",
)  # fmt: skip
SHORT_ID_MIN_CHARS = 6
ELLIPSIS = "…"


@dataclass(frozen=True)
class Layout:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # The one day every time is from (times then show without it), else None.
    day: str | None = None
    shortened_ids: bool = False
    dropped: tuple[str, ...] = ()


def table_width(widths: Sequence[int]) -> int:
    """Width of a rich table with borders and one space of padding each side of every cell."""
    return sum(width + 3 for width in widths) + 1


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def compact_times(values: Sequence[str]) -> tuple[list[str], str | None]:
    """ISO times as `HH:MM:SS` when all are from one day (returned beside them), else `YYYY-MM-DD HH:MM`."""
    moments = [_parse_time(value) if value else None for value in values]
    days = {moment.date().isoformat() for moment in moments if moment is not None}
    one_day = next(iter(days)) if len(days) == 1 else None
    shown = []
    for value, moment in zip(values, moments, strict=True):
        if moment is None:
            shown.append(value)
        else:
            shown.append(moment.strftime("%H:%M:%S" if one_day else "%Y-%m-%d %H:%M"))
    return shown, one_day


def _id_body_start(value: str) -> int:
    """Where the random part of an id starts: after its type prefix (acct_, req_cg_), if any."""
    return value.rfind("_") + 1 if "_" in value[:8] else 0


def short_ids(values: Sequence[str]) -> list[str]:
    """The shortest prefixes (at least SHORT_ID_MIN_CHARS) of the ids' random parts that keep distinct ids
    distinct; the type prefix (acct_, req_cg_) goes, the column's header says what they are."""
    bodies = {value: value[_id_body_start(value) :] for value in values if value}
    if not bodies:
        return list(values)
    length = max(map(len, bodies.values()))
    for candidate in range(SHORT_ID_MIN_CHARS, length):
        if len({body[:candidate] for body in bodies.values()}) == len(bodies):
            length = candidate
            break
    return [value and _shortened(bodies[value], length) for value in values]


def _shortened(body: str, length: int) -> str:
    return body[:length] + ELLIPSIS if length < len(body) else body


def fit(
    records: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    width: int,
    text: Callable[[Any], str],
    header: Callable[[str], str],
) -> Layout:
    cells = {column: [text(record.get(column)) for record in records] for column in columns}
    day = None
    for column in columns:
        if column in TIME_COLUMNS:
            cells[column], column_day = compact_times(cells[column])
            day = day or column_day

    def needed(shown: Sequence[str]) -> int:
        return table_width([max([len(header(column)), *map(len, cells[column])]) for column in shown])

    shown = list(columns)
    shortened = False
    if needed(shown) > width:
        for column in shown:
            if column in ID_COLUMNS:
                cells[column] = short_ids(cells[column])
                shortened = True
    dropped = []
    for column in DROP_ORDER:
        if needed(shown) <= width or len(shown) <= 2:
            break
        if column in shown:
            shown.remove(column)
            dropped.append(column)
    rows = tuple(tuple(cells[column][index] for column in shown) for index in range(len(records)))
    return Layout(tuple(shown), rows, day if any(c in TIME_COLUMNS for c in shown) else None, shortened, tuple(dropped))
