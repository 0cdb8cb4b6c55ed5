"""Loading: what is loaded is what is stored, and a bad line stores nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rawexport.domain import catalog
from rawexport.domain.catalog import Kind
from rawexport.meta.batches import BatchLedger
from rawexport.store import EventStore, LoadError, load_file, table_name
from rawexport.store.schema import stored_columns

T0 = 1_700_000_000_000
_SAMPLES: dict[Kind, Any] = {
    Kind.INT: 42,
    Kind.FLOAT: 2.5,
    Kind.BOOL: True,
    Kind.STRING: 'text, with "quotes"\nand a line',
    Kind.CURRENCY_MAP: {"Coins": 90, "Gold": 10.5},
}


def _full_event(table: catalog.Table, i: int) -> dict[str, Any]:
    event: dict[str, Any] = {"event": table.id}
    for column in table.columns:
        event[column.name] = _SAMPLES[column.kind]
    event["devtodev ID"] = 1000 + i
    event[table.time_column or "time"] = T0 + i
    if table.id == "ip":
        event["currencies"] = {"Coins": 5, "Gems": 0.25}
    return event


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _stored(store: EventStore, table: catalog.Table, app_id: str) -> list[dict[str, Any]]:
    names = [n for n, _ in stored_columns(table)]
    quoted = ", ".join(f"`{n}`" for n in names)
    rows = store.rows(
        f"SELECT {quoted} FROM {table_name(table)} WHERE app_id = {{a:String}} ORDER BY time",
        {"a": app_id},
    )
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_every_standard_table_round_trips(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    tables = list(catalog.STANDARD_EVENTS.values())
    events = [_full_event(t, i) for i, t in enumerate(tables)]
    report = load_file(
        event_store, app_id, _write_jsonl(tmp_path / "all.jsonl", events), ledger=ledger
    )
    assert report.rows == {t.id: 1 for t in tables} and report.total == len(tables)
    for table, event in zip(tables, events, strict=True):
        (stored,) = _stored(event_store, table, app_id)
        expected = {k: v for k, v in event.items() if k != "event"}
        expected["time"] = expected.pop(table.time_column or "time")
        assert stored == {"app_id": app_id, **expected}, table.id


def test_custom_events_store_params_as_text(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    event = {
        "event": "levelComplete",
        "devtodev ID": 1,
        "time": T0,
        "level": 3,
        "isTester": False,
        "cheat": False,
        "install_date": 1_600_000_000,
        "params": {"stars": 3, "ratio": 0.1, "mode": "hard", "won": True, "gone": None},
    }
    load_file(event_store, app_id, _write_jsonl(tmp_path / "c.jsonl", [event]), ledger=ledger)
    (stored,) = _stored(event_store, catalog.CUSTOM_TABLE, app_id)
    assert stored["event"] == "levelComplete"
    assert stored["params"] == {"stars": "3", "ratio": "0.1", "mode": "hard", "won": "true"}
    assert stored["level"] == 3 and stored["install_date"] == 1_600_000_000


def test_rg_time_defaults_to_install_date(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    load_file(
        event_store,
        app_id,
        _write_jsonl(
            tmp_path / "rg.jsonl",
            [{"event": "rg", "devtodev ID": 7, "install_date": 1_700_000_000}],
        ),
        ledger=ledger,
    )
    (stored,) = _stored(event_store, catalog.STANDARD_EVENTS["rg"], app_id)
    assert stored["time"] == 1_700_000_000_000


def test_missing_fields_come_from_the_card(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    card = {
        "devtodev ID": 5,
        "Level": 12,
        "Tester": True,
        "Cheater": False,
        "Created": 1_600_000_000,
    }
    load_file(
        event_store, app_id, _write_jsonl(tmp_path / "u.jsonl", [card]), users=True, ledger=ledger
    )
    events = [
        {"event": "tr", "devtodev ID": 5, "time": T0, "step": 1},
        {"event": "tr", "devtodev ID": 5, "time": T0 + 1, "step": 2, "level": 3, "cheat": True},
        {"event": "tr", "devtodev ID": 6, "time": T0 + 2, "step": 3},
    ]
    load_file(event_store, app_id, _write_jsonl(tmp_path / "e.jsonl", events), ledger=ledger)
    picked = [
        (r["level"], r["isTester"], r["cheat"], r["install_date"])
        for r in _stored(event_store, catalog.STANDARD_EVENTS["tr"], app_id)
    ]
    assert picked == [
        (12, True, False, 1_600_000_000),
        (3, True, True, 1_600_000_000),
        (None, None, None, None),
    ]


def _card(store: EventStore, app_id: str, device_id: int) -> dict[str, Any]:
    names = list(catalog.USERS.column_names)
    quoted = ", ".join(f"`{n}`" for n in names)
    (row,) = store.rows(
        f"SELECT {quoted} FROM {table_name(catalog.USERS)} FINAL"
        " WHERE app_id = {a:String} AND `devtodev ID` = {d:Int64}",
        {"a": app_id, "d": device_id},
    )
    return {n: v for n, v in zip(names, row, strict=True) if v is not None}


def test_loading_a_card_again_updates_only_named_fields(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    first = {"devtodev ID": 1, "Country": "DE", "Level": 3, "Paying": False, "username": "ann"}
    load_file(
        event_store, app_id, _write_jsonl(tmp_path / "a.jsonl", [first]), users=True, ledger=ledger
    )
    later: list[dict[str, Any]] = [
        {"devtodev ID": 1, "Level": 4, "username": None},
        {"devtodev ID": 1, "Level": 5, "Language": "de"},
    ]
    load_file(
        event_store, app_id, _write_jsonl(tmp_path / "b.jsonl", later), users=True, ledger=ledger
    )
    assert _card(event_store, app_id, 1) == {
        "devtodev ID": 1,
        "Country": "DE",
        "Level": 5,
        "Paying": False,
        "Language": "de",
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"event": "gs", "time": 1}', "'devtodev ID' is required"),
        ('{"event": "gs", "devtodev ID": 1}', "'time' (UNIX ms) is required"),
        ('{"event": "rp", "devtodev ID": 1, "time": 1}', "unknown column 'time'"),
        ('{"event": "gs", "devtodev ID": 1, "time": 1, "colour": 1}', "unknown column 'colour'"),
        ('{"event": "gs", "devtodev ID": 1, "time": 1.5}', "'time' must be an integer"),
        ('{"event": "gs", "devtodev ID": 1, "time": 1, "cheat": 1}', "'cheat' must be true"),
        ('{"event": "ip", "devtodev ID": 1, "time": 1, "currencies": {"C": "5"}}', "'currencies'"),
        ('{"event": "x", "devtodev ID": 1, "time": 1, "params": {"p": [1]}}', "'params'"),
        ('{"event": "sbs_payments", "devtodev ID": 1, "date": 1}', "cannot be loaded"),
        ('{"devtodev ID": 1, "time": 1}', "'event' must be"),
        ('{"event": "gs", "devtodev ID": 9223372036854775808, "time": 1}', "an integer"),
        ("[1, 2]", "not a JSON object"),
        ("{nope", "not valid JSON"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_stored(
    ledger: BatchLedger,
    event_store: EventStore,
    app_id: str,
    tmp_path: Path,
    line: str,
    message: str,
) -> None:
    good = '{"event": "gs", "devtodev ID": 1, "time": 1}'
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n\n{line}\n{good}\n")
    with pytest.raises(LoadError) as caught:
        load_file(event_store, app_id, path, source_name="bad.jsonl", ledger=ledger)
    assert str(caught.value).startswith("bad.jsonl:3: ")
    assert message in str(caught.value)
    assert (caught.value.file, caught.value.line) == ("bad.jsonl", 3)
    assert _stored(event_store, catalog.STANDARD_EVENTS["gs"], app_id) == []


def test_every_bad_line_is_reported(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event": "gs"}\n{"event": "gs", "devtodev ID": 1, "time": 1}\n[]\n')
    with pytest.raises(LoadError) as caught:
        load_file(event_store, app_id, path, ledger=ledger)
    assert [line.split(": ")[0] for line in str(caught.value).splitlines()] == [
        f"{path}:1",
        f"{path}:3",
    ]


def test_csv_input(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event,devtodev ID,time,level,item,currencies,params,cheat\n"
        'ip,1,1000,4,"sword, big","{""Coins"": 5}",,false\n'
        'shop,2,2000,,,,"{""tab"": ""gems"", ""n"": 2}",\n'
    )
    assert load_file(event_store, app_id, path, ledger=ledger).rows == {"ip": 1, "shop": 1}
    (ip,) = _stored(event_store, catalog.STANDARD_EVENTS["ip"], app_id)
    assert (ip["time"], ip["level"], ip["item"], ip["currencies"], ip["cheat"]) == (
        1000,
        4,
        "sword, big",
        {"Coins": 5},
        False,
    )
    (shop,) = _stored(event_store, catalog.CUSTOM_TABLE, app_id)
    assert (shop["event"], shop["params"], shop["level"]) == (
        "shop",
        {"tab": "gems", "n": "2"},
        None,
    )


def test_csv_bad_cell_names_its_line(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text('event,devtodev ID,time,step\ntr,1,1000,1\ntr,1,"10\n00",x\ntr,1,3,1\n')
    with pytest.raises(LoadError, match=r"events.csv:3: 'time' must be an integer"):
        load_file(event_store, app_id, path, ledger=ledger)
    assert _stored(event_store, catalog.STANDARD_EVENTS["tr"], app_id) == []


def test_parquet_input(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "events.parquet"
    pq.write_table(
        pa.table(
            {
                "event": ["lu", "quest"],
                "devtodev ID": [1, 2],
                "time": [1000, 2000],
                "level": [3, None],
                "spent": ['{"Coins": 90}', None],
                "earned": pa.array([[("Gems", 1.5)], None], pa.map_(pa.string(), pa.float64())),
                "params": pa.array([None, {"quest": "daily", "reward": 10}]),
            }
        ),
        path,
    )
    assert load_file(event_store, app_id, path, ledger=ledger).rows == {"lu": 1, "quest": 1}
    (lu,) = _stored(event_store, catalog.STANDARD_EVENTS["lu"], app_id)
    assert (lu["spent"], lu["earned"], lu["level"]) == ({"Coins": 90}, {"Gems": 1.5}, 3)
    (quest,) = _stored(event_store, catalog.CUSTOM_TABLE, app_id)
    assert quest["params"] == {"quest": "daily", "reward": "10"}


def test_unknown_file_ending(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "events.xml"
    path.write_text("<x/>")
    with pytest.raises(ValueError, match="unknown file ending"):
        load_file(event_store, app_id, path, ledger=ledger)


def test_a_process_without_chdb_holds_no_pyarrow_until_it_reads_parquet() -> None:
    # An API node or worker on a ClickHouse server imports all of this and never chDB (which
    # imports pyarrow itself); pyarrow with numpy is tens of MB it would hold for nothing.
    script = (
        "import sys\n"
        "import rawexport.cli.main, rawexport.cli.serve, rawexport.cli.worker\n"
        "import rawexport.store.loading, rawexport.http.app, rawexport.workers.pool\n"
        "print(sorted({'chdb', 'pyarrow', 'numpy'} & sys.modules.keys()))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
