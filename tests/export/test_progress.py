"""Progress reports: growing, at most 99, throttled, and 99 once every row is written."""

from __future__ import annotations

import time

import pytest

from rawexport.export.progress import ProgressMeter


def test_reports_grow_to_99_and_are_throttled() -> None:
    reports: list[int] = []
    meter = ProgressMeter(3000, reports.append)
    began = time.monotonic()
    for rows in (1000, 2000):
        chunks = [b"a,b\n" * 10] * (rows // 10)
        assert b"".join(meter.track(chunks, rows, line_per_row=True)) == b"a,b\n" * rows
    elapsed = time.monotonic() - began
    assert reports == sorted(reports)
    assert reports[-1] == 99
    assert len(reports) <= elapsed / 0.2 + 2  # the first report, the final 99, one per 0.2 s


def test_a_file_without_lines_counts_when_it_ends() -> None:
    reports: list[int] = []
    meter = ProgressMeter(10, reports.append)
    list(meter.track([b"\x00\n\n\n\n\n\n\n\n\n\n\n"], 5, line_per_row=False))
    assert reports == [50]
    list(meter.track([], 5, line_per_row=False))
    assert reports == [50, 99]


def test_rows_are_never_counted_past_the_planned_rows() -> None:
    reports: list[int] = []
    meter = ProgressMeter(100, reports.append)
    for _ in meter.track([b"\n" * 500], 10, line_per_row=True):
        assert reports == [10]  # 500 newlines, but the file has 10 rows


def test_files_tracked_at_once_add_up_and_never_go_back() -> None:
    reports: list[int] = []
    meter = ProgressMeter(2000, reports.append)
    first = meter.track([b"a\n" * 100] * 10, 1000, line_per_row=True)
    second = meter.track([b"b\n" * 100] * 10, 1000, line_per_row=True)
    for a, b in zip(first, second, strict=True):  # interleaved, as two producer threads do
        assert a and b
    list(first), list(second)  # both end: every planned row written
    assert reports == sorted(set(reports))
    assert reports[-1] == 99


class _Stop(Exception):
    pass


def test_a_callback_that_raises_stops_every_file_in_flight_and_is_not_called_again() -> None:
    calls: list[int] = []

    def stop(percent: int) -> None:
        calls.append(percent)
        raise _Stop

    meter = ProgressMeter(2000, stop)
    first = meter.track([b"a\n" * 100] * 10, 1000, line_per_row=True)
    second = meter.track([b"b\n" * 100] * 10, 1000, line_per_row=True)
    with pytest.raises(_Stop):
        next(second)  # its first chunk is due for a report
    with pytest.raises(_Stop):
        list(first)  # another file in flight stops at its next chunk, with no call
    assert calls == [5]
