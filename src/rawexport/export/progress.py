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

        With `line_per_row` (CSV, JSON lines) a newline ends a row. Counting every byte would
        cost more than a tenth of the deflate time, so only the chunks that arrive when a report
        is due are counted, and the rows of the others are estimated from their size.
        """
        lines = counted = seen = 0
        for chunk in chunks:
            seen += len(chunk)
            if line_per_row and self._due():
                lines += chunk.count(b"\n")
                counted += len(chunk)
                self._report(self._done + min(rows, seen * lines // counted))
            yield chunk
        self._done += rows
        self._report(self._done)

    def _due(self) -> bool:
        return time.monotonic() - self._reported_at >= _MIN_INTERVAL_S

    def _report(self, rows: int) -> None:
        percent = min(99, rows * 100 // self._total)
        if percent != self._reported and (self._due() or rows >= self._total):
            self._reported, self._reported_at = percent, time.monotonic()
            self._on_progress(percent)
