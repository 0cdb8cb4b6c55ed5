"""The chDB backend: parameters of every type, rows, exports (file and FIFO), file inserts."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from rawexport.store import EventStore, open_store

TRICKY = ["a\\b", "tab\there", "new\nline", "it's", 'q"q', "", "é€", "\\'", "a,b]"]


def test_string_parameters_arrive_verbatim(event_store: EventStore) -> None:
    for value in TRICKY:
        assert event_store.rows("SELECT {v:String}", {"v": value}) == [(value,)]


def test_list_bool_and_number_parameters(event_store: EventStore) -> None:
    rows = event_store.rows(
        "SELECT {s:Array(String)}, {i:Array(Int64)}, {b:Bool}, {f:Float64}, {n:Int64}",
        {"s": TRICKY, "i": [1, -2], "b": False, "f": 0.1, "n": -(2**63)},
    )
    assert rows == [(TRICKY, [1, -2], False, 0.1, -(2**63))]


def test_rows_decode_types(event_store: EventStore) -> None:
    rows = event_store.rows(
        "SELECT toInt64(9007199254740993), NULL, map('Coins', 1.5), true ORDER BY 1"
    )
    assert rows == [(9007199254740993, None, {"Coins": 1.5}, True)]


def test_export_writes_null_as_empty_field(event_store: EventStore, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    event_store.export(
        "SELECT {a:String} AS a, NULL AS b, 1 AS c", {"a": "x,y"}, "CSVWithNames", str(out)
    )
    assert out.read_text() == '"a","b","c"\n"x,y",,1\n'


def test_export_into_fifo(event_store: EventStore, tmp_path: Path) -> None:
    fifo = tmp_path / "it's a fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    event_store.export("SELECT number FROM numbers(3)", None, "CSV", str(fifo))
    reader.join(timeout=30)
    assert received == [b"0\n1\n2\n"]


def test_insert_file(event_store: EventStore, tmp_path: Path) -> None:
    table = "rawexport.`test_insert_file`"
    event_store.execute(f"CREATE TABLE {table} (a String, b Int64) ENGINE = Memory")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"a": "x", "b": 1}\n{"b": 2, "a": "y"}\n')
    event_store.insert_file(table, str(rows), "JSONEachRow", ["a", "b"])
    assert event_store.rows(f"SELECT a, b FROM {table} ORDER BY b") == [("x", 1), ("y", 2)]
    event_store.execute(f"DROP TABLE {table}")


@pytest.mark.parametrize("fmt", ["CSVWithNames", "JSONEachRow", "Parquet"])
def test_export_counts_the_rows_of_the_result_not_of_the_tables_read(
    event_store: EventStore, tmp_path: Path, fmt: str
) -> None:
    # A filter, a DISTINCT and a join: the result has far fewer rows than were read.
    sql = (
        "SELECT DISTINCT n % 7 AS k FROM (SELECT number AS n FROM numbers(100000)"
        " WHERE n % 3 = 0) AS a JOIN (SELECT number AS n FROM numbers(50)) AS b USING (n)"
    )
    assert event_store.export(sql, None, fmt, str(tmp_path / "out")) == 7


def test_format_names_are_checked(event_store: EventStore, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        event_store.export("SELECT 1", None, "CSV; DROP TABLE x", str(tmp_path / "x"))


@pytest.mark.parametrize("url", ["clickhouse://host/db", "chdb://relative/path", "/abs/path"])
def test_open_store_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match="chdb:///"):
        open_store(url)


def test_parameters_of_concurrent_queries_never_mix(event_store: EventStore) -> None:
    # chDB keeps query parameters per connection: a shared one let a query run with another
    # thread's values, which for exports means another app's rows.
    wrong: list[tuple[int, object]] = []

    def ask(value: int) -> None:
        for _ in range(100):
            (answer,) = event_store.rows("SELECT {v:Int64} + 0", {"v": value})
            if answer[0] != value:
                wrong.append((value, answer[0]))

    threads = [threading.Thread(target=ask, args=(v,)) for v in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
