"""Streaming a query through a named pipe: exact bytes, errors raised, early stops."""

from __future__ import annotations

import threading

import pytest

from rawexport.export.fifo import ResultStream
from rawexport.store import EventStore

NUMBERS = "SELECT number FROM numbers({n:UInt64}) ORDER BY number"


def _query_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "rawexport-query")


def test_streams_the_whole_result_and_counts_its_rows(event_store: EventStore) -> None:
    result = ResultStream(event_store, NUMBERS, {"n": 500_000}, "CSV")
    assert b"".join(result) == b"".join(b"%d\n" % i for i in range(500_000))
    assert result.rows == 500_000


def test_rows_are_unknown_until_the_result_is_read(event_store: EventStore) -> None:
    result = ResultStream(event_store, NUMBERS, {"n": 10}, "CSV")
    with pytest.raises(RuntimeError, match="not been read"):
        _ = result.rows
    result.close()


@pytest.mark.timeout(60)
def test_a_failing_query_raises_instead_of_hanging(event_store: EventStore) -> None:
    with pytest.raises(Exception, match=r"UNKNOWN_TABLE|does not exist"):
        b"".join(ResultStream(event_store, "SELECT * FROM no_such_table", {}, "CSV"))
    assert _query_threads() == 0


@pytest.mark.timeout(60)
def test_a_consumer_that_stops_early_releases_the_query(event_store: EventStore) -> None:
    result = ResultStream(event_store, NUMBERS, {"n": 5_000_000}, "CSV")
    assert next(iter(result)).startswith(b"0\n1\n")
    result.close()
    assert _query_threads() == 0
