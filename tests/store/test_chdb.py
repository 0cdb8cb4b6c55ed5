"""The embedded backend's own mechanics (chDB only): its database, results through a FIFO."""

from __future__ import annotations

import threading

import pytest

from rawexport.store import EventStore

NUMBERS = "SELECT number FROM numbers({n:UInt64}) ORDER BY number"


def _query_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "rawexport-query")


def test_tables_stay_in_the_database_embedded_stores_always_had(chdb_store: EventStore) -> None:
    assert chdb_store.database == "rawexport"
    assert chdb_store.rows(
        "SELECT count() FROM system.tables WHERE database = 'rawexport' AND name = 'ev_gs'"
    ) == [(1,)]


def test_a_stream_counts_its_rows_once_read_to_the_end(chdb_store: EventStore) -> None:
    with chdb_store.stream(NUMBERS, {"n": 500_000}, "CSV") as result:
        chunks = iter(result)
        next(chunks)
        assert result.rows is None
        assert sum(chunk.count(b"\n") for chunk in chunks) > 0
    assert result.rows == 500_000


@pytest.mark.parametrize("fmt", ["CSVWithNames", "JSONEachRow", "Parquet"])
def test_the_count_is_of_the_rows_of_the_result_not_of_the_tables_read(
    chdb_store: EventStore, fmt: str
) -> None:
    # A filter, a DISTINCT and a join: the result has far fewer rows than were read.
    sql = (
        "SELECT DISTINCT n % 7 AS k FROM (SELECT number AS n FROM numbers(100000)"
        " WHERE n % 3 = 0) AS a JOIN (SELECT number AS n FROM numbers(50)) AS b USING (n)"
    )
    with chdb_store.stream(sql, None, fmt) as result:
        b"".join(result)
    assert result.rows == 7


@pytest.mark.timeout(60)
def test_a_failing_query_leaves_no_thread_behind(chdb_store: EventStore) -> None:
    with pytest.raises(Exception, match="UNKNOWN_TABLE"):
        b"".join(chdb_store.stream("SELECT * FROM no_such_table", None, "CSV"))
    assert _query_threads() == 0


@pytest.mark.timeout(60)
def test_a_stream_closed_early_ends_its_query_thread(chdb_store: EventStore) -> None:
    result = chdb_store.stream(NUMBERS, {"n": 5_000_000}, "CSV")
    assert next(iter(result)).startswith(b"0\n1\n")
    result.close()
    assert _query_threads() == 0
