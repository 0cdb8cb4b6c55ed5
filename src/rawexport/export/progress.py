"""Progress of a running export: rows written out of rows planned, as a throttled percentage."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

__all__ = ["ProgressMeter"]

_MIN_INTERVAL_S = 0.2


class ProgressMeter:
    """Reports 0..99 to `on_progress` when the value changes, at most every 0.2 s.

    The value once every planned row is written (99) is always reported; 100 is left to the
    caller, for when the report is published.
    """

    def __init__(self, total_rows: int, on_progress: Callable[[int], None]) -> None:
        self._total = max(total_rows, 1)
        self._on_progress = on_progress
        self._done = 0
        self._reported = -1
        self._reported_at = float("-inf")

    def track(self, chunks: Iterable[bytes], rows: int, *, line_per_row: bool) -> Iterator[bytes]:
        """Pass `chunks` of a file of `rows` rows through, counting them as they go by.

        With `line_per_row` (CSV, JSON lines) a newline marks a row; otherwise (Parquet) the
        file counts as written when its last chunk has gone.
        """
        seen = 0
        for chunk in chunks:
            if line_per_row:
                seen = min(rows, seen + chunk.count(b"\n"))
                self._report(self._done + seen)
            yield chunk
        self._done += rows
        self._report(self._done)

    def _report(self, rows: int) -> None:
        percent = min(99, rows * 100 // self._total)
        now = time.monotonic()
        due = now - self._reported_at >= _MIN_INTERVAL_S or rows >= self._total
        if percent != self._reported and due:
            self._reported, self._reported_at = percent, now
            self._on_progress(percent)
