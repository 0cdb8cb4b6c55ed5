"""Streaming a query through a named pipe: exact bytes, errors raised, early stops."""

from __future__ import annotations

import threading

import pytest

from rawexport.export.fifo import query_chunks
from rawexport.store import EventStore

NUMBERS = "SELECT number FROM numbers({n:UInt64}) ORDER BY number"


def _query_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "rawexport-query")


def test_streams_the_whole_result(event_store: EventStore) -> None:
    data = b"".join(query_chunks(event_store, NUMBERS, {"n": 500_000}, "CSV"))
    assert data == b"".join(b"%d\n" % i for i in range(500_000))


@pytest.mark.timeout(60)
def test_a_failing_query_raises_instead_of_hanging(event_store: EventStore) -> None:
    with pytest.raises(Exception, match=r"UNKNOWN_TABLE|does not exist"):
        b"".join(query_chunks(event_store, "SELECT * FROM no_such_table", {}, "CSV"))
    assert _query_threads() == 0


@pytest.mark.timeout(60)
def test_a_consumer_that_stops_early_releases_the_query(event_store: EventStore) -> None:
    chunks = query_chunks(event_store, NUMBERS, {"n": 5_000_000}, "CSV")
    assert next(chunks).startswith(b"0\n1\n")
    chunks.close()
    assert _query_threads() == 0
