"""Turn the ways people write a moment into the UNIX seconds the API wants.

A date without a time means 00:00 UTC of that day. A date-time must carry its offset
(`Z`, `+03:00`): the API counts in UTC, and guessing the caller's zone would shift the window.
`now` and `7d`, `36h` (that long before now) are read with this machine's clock.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime

__all__ = ["WHEN_FORMS", "Instant", "parse_when", "to_unix"]

Instant = int | datetime | date | str

WHEN_FORMS = (
    "UNIX seconds, an ISO date (2026-11-01, 00:00 UTC), an ISO date-time with offset"
    " (2026-11-01T10:00:00+03:00), now, or a time before now: 7d (days), 36h (hours)"
)

_AGO = re.compile(r"(\d+)([dh])")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600}


def parse_when(text: str) -> int:
    """UNIX seconds, an ISO date, an ISO date-time with offset, `now`, or `7d` / `36h` ago."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text == "now":
        return int(time.time())
    if ago := _AGO.fullmatch(text):
        return int(time.time()) - int(ago[1]) * _UNIT_SECONDS[ago[2]]
    try:
        moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not one of: {WHEN_FORMS}") from exc
    return to_unix(moment)


def to_unix(value: Instant) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a moment")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return parse_when(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{value.isoformat()} has no UTC offset; add one, e.g. Z or +03:00")
        return int(value.timestamp())
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
