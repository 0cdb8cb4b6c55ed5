"""What every event store backend does alike: parameters, rows, streamed results, inserts,
errors. Runs once per backend (the `event_store` fixture)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from rawexport.store import EventStore, StoreError, open_store
from rawexport.store.sql import quote_identifier
from tests.store.running import wait_until_stopped

TRICKY = ["a\\b", "tab\there", "new\nline", "it's", 'q"q', "", "é€", "\\'", "a,b]"]
NUMBERS = "SELECT number FROM numbers({n:UInt64}) ORDER BY number"


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


def test_statements_run_in_the_stores_database(event_store: EventStore) -> None:
    assert event_store.rows("SELECT currentDatabase()") == [(event_store.database,)]


def test_a_stream_gives_the_whole_result_and_at_most_its_exact_row_count(
    event_store: EventStore,
) -> None:
    with event_store.stream(NUMBERS, {"n": 500_000}, "CSV") as result:
        assert b"".join(result) == b"".join(b"%d\n" % i for i in range(500_000))
    assert result.rows in (500_000, None)  # None: the backend does not count


def test_a_stream_writes_null_as_an_empty_field(event_store: EventStore) -> None:
    sql = "SELECT {a:String} AS a, NULL AS b, 1 AS c"
    with event_store.stream(sql, {"a": "x,y"}, "CSVWithNames") as result:
        assert b"".join(result) == b'"a","b","c"\n"x,y",,1\n'


def test_an_empty_result_still_has_its_header(event_store: EventStore) -> None:
    with event_store.stream("SELECT 1 AS a WHERE 0", None, "CSVWithNames") as result:
        assert b"".join(result) == b'"a"\n'
    assert result.rows in (0, None)


@pytest.mark.timeout(60)
def test_a_failing_query_raises_a_store_error_with_clickhouses_code(
    event_store: EventStore,
) -> None:
    for run in (
        lambda: event_store.rows("SELECT * FROM no_such_table"),
        lambda: event_store.execute("DROP TABLE no_such_table"),
        lambda: b"".join(event_store.stream("SELECT * FROM no_such_table", None, "CSV")),
    ):
        with pytest.raises(StoreError, match="no_such_table") as raised:
            run()
        assert raised.value.code == 60  # UNKNOWN_TABLE
        assert "\n" not in str(raised.value)


@pytest.mark.timeout(60)
def test_a_query_failing_after_its_first_rows_raises_from_the_stream(
    event_store: EventStore,
) -> None:
    sql = "SELECT number, throwIf(number = 1000000, 'late failure') FROM numbers(2000000)"
    chunks = 0
    with pytest.raises(StoreError, match="late failure"), event_store.stream(sql, None, "CSV") as r:
        for _ in r:
            chunks += 1
    assert chunks > 0


@pytest.mark.timeout(60)
def test_a_stream_closed_early_stops_its_query(event_store: EventStore) -> None:
    marker = f"abandoned-{uuid.uuid4().hex}"
    sql = f"SELECT number, {{m:String}} FROM numbers(10000000000) /* {marker} */"
    with event_store.stream(sql, {"m": marker}, "CSV") as result:
        assert next(iter(result)).startswith(b"0,")
    wait_until_stopped(event_store, marker)


def test_format_names_are_checked(event_store: EventStore) -> None:
    with pytest.raises(ValueError, match="format"):
        event_store.stream("SELECT 1", None, "CSV; DROP TABLE x")
    with pytest.raises(ValueError, match="format"):
        event_store.insert("t", "/dev/null", "JSONEachRow FROM x")


def test_insert_streams_a_file_into_named_columns(event_store: EventStore, tmp_path: Path) -> None:
    table = quote_identifier(f"test_insert_{uuid.uuid4().hex}")
    event_store.execute(f"CREATE TABLE {table} (a String, b Int64, c Int64) ENGINE = Memory")
    rows = tmp_path / "rows.jsonl"
    many = 100_000  # several megabytes: more than one block of the upload
    with rows.open("w") as out:
        out.write('{"a": "x", "b": 1}\n{"b": 2, "a": "it\'s"}\n')
        out.writelines(f'{{"a": "{"n" * 20}", "b": {n}}}\n' for n in range(3, many + 1))
    event_store.insert(table, str(rows), "JSONEachRow", ["a", "b"])
    assert event_store.rows(f"SELECT a, b, c FROM {table} WHERE b < 3 ORDER BY b") == [
        ("x", 1, 0),
        ("it's", 2, 0),
    ]
    assert event_store.rows(f"SELECT count(), sum(b) FROM {table}") == [
        (many, many * (many + 1) // 2)
    ]
    event_store.execute(f"DROP TABLE {table}")


def test_parameters_of_concurrent_queries_never_mix(event_store: EventStore) -> None:
    # chDB keeps query parameters per connection: a shared one let a query run with another
    # thread's values, which for exports means another app's rows.
    wrong: list[tuple[int, object]] = []

    def ask(value: int) -> None:
        for _ in range(50):
            (answer,) = event_store.rows("SELECT {v:Int64} + 0", {"v": value})
            if answer[0] != value:
                wrong.append((value, answer[0]))

    threads = [threading.Thread(target=ask, args=(v,)) for v in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


@pytest.mark.parametrize(
    "url", ["mysql://host/db", "chdb://relative/path", "/abs/path", "clickhouse://host"]
)
def test_open_store_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"chdb:///|clickhouse://"):
        open_store(url)
