"""Progress of a running export: rows written out of rows planned, as a throttled percentage."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator

__all__ = ["ProgressMeter"]

_MIN_INTERVAL_S = 0.2


class ProgressMeter:
    """Reports 0..99 to `on_progress` when the value grows, at most every 0.2 s.

    Several files may be written at once, each tracked from a thread of its own: the rows are
    those of the files done plus those written so far of each file in flight. The value once
    every planned row is written (99) is always reported; 100 is left to the caller, for when
    the report is published. `on_progress` is called by one thread at a time, and may raise to
    stop the export: it is not called again, and every file tracked raises the same error at
    its next chunk, so all the parts in flight stop, not only the one that reported.
    """

    def __init__(self, total_rows: int, on_progress: Callable[[int], None]) -> None:
        self._total = max(total_rows, 1)
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._done = 0
        self._in_flight: dict[int, int] = {}
        self._reported = -1
        self._reported_at = float("-inf")
        self._stopped: BaseException | None = None

    def track(self, chunks: Iterable[bytes], rows: int, *, line_per_row: bool) -> Iterator[bytes]:
        """Pass `chunks` of a file of `rows` rows through, counting them as they go by.

        With `line_per_row` (CSV, JSON lines) a newline ends a row. Counting every byte would
        cost more than a tenth of the deflate time, so only the chunks that arrive when a report
        is due are counted, and the rows of the others are estimated from their size.
        """
        track_id = next(self._ids)
        lines = counted = seen = 0
        try:
            for chunk in chunks:
                if self._stopped is not None:
                    raise self._stopped
                seen += len(chunk)
                if line_per_row and self._due():
                    lines += chunk.count(b"\n")
                    counted += len(chunk)
                    self._update(track_id, min(rows, seen * lines // counted))
                yield chunk
        finally:
            with self._lock:
                self._in_flight.pop(track_id, None)
        with self._lock:
            self._done += rows
        self._update(None, 0)

    def _due(self) -> bool:
        return time.monotonic() - self._reported_at >= _MIN_INTERVAL_S

    def _update(self, track_id: int | None, rows: int) -> None:
        with self._lock:
            if self._stopped is not None:
                raise self._stopped
            if track_id is not None:
                self._in_flight[track_id] = rows
            written = self._done + sum(self._in_flight.values())
            percent = min(99, written * 100 // self._total)
            if percent <= self._reported or not (self._due() or written >= self._total):
                return
            self._reported, self._reported_at = percent, time.monotonic()
            try:
                self._on_progress(percent)
            except BaseException as error:
                self._stopped = error
                raise
