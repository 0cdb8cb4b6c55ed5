"""Which bytes of a report a request asks for: Range and If-Range (RFC 9110, section 14).

One range is answered with 206; several may lawfully be answered whole (section 14.2), which
every download client copes with, and a report is resumed with one range anyway. A Range that
cannot be parsed is ignored, as the RFC allows; one that starts past the end is answered 416.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ByteRange", "RangeNotSatisfiable", "requested_range"]

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in Content-Range."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeNotSatisfiable(Exception):
    """The range lies wholly beyond the end of the report (HTTP 416)."""


def requested_range(
    range_header: str | None, if_range: str | None, size: int, validators: tuple[str, str]
) -> ByteRange:
    """The bytes to send of a report of `size` bytes; the whole report unless one range applies.

    `validators` are the report's ETag and Last-Modified: an If-Range naming neither (another
    version of the report) asks for the whole new version, so the Range is ignored.
    """
    whole = ByteRange(0, size - 1)
    if range_header is None or (if_range is not None and if_range.strip() not in validators):
        return whole
    match = _SINGLE.match(range_header)
    if match is None or (not match.group(1) and not match.group(2)):
        return whole  # several ranges, another unit, or not a range at all
    first, last = match.group(1), match.group(2)
    if not first:  # `-n`: the last n bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        return whole  # invalid, hence ignored
    if start >= size:
        raise RangeNotSatisfiable
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end)
