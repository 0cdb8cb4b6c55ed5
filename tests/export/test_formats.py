"""The csv, jsonl and parquet formats read back with the usual readers."""

from __future__ import annotations

import io

import orjson
import pyarrow.parquet as pq

from .conftest import Export, Load, at, custom, standard

ROWS = [
    {
        "event": "pe",
        "devtodev ID": 1,
        "time": at(1),
        "location": 'cave, "deep"\nend',
        "success": True,
        "duration": 1.5,
        "level": 3,
        "spent": {"Gold": 2},
    },
    {"event": "pe", "devtodev ID": 2, "time": at(2), "location": "hill", "success": False},
    {"event": "boss", "devtodev ID": 2, "time": at(3), "params": {"hp": 10, "name": "Ogre"}},
]


def test_csv_is_rfc4180_with_unix_line_ends(load: Load, export: Export) -> None:
    load(ROWS)
    out = export(standard("pe"), custom("boss"))
    raw = out.read("pe.csv")
    assert b"\r" not in raw.replace(b"\\r", b"")
    first, second = out.records("pe.csv")
    assert (first["location"], first["success"], first["duration"]) == (
        'cave, "deep"\nend',
        "true",
        "1.5",
    )
    assert (second["success"], second["duration"], second["spent"]) == ("false", "", "")
    assert out.records("boss.csv")[0]["name"] == "Ogre"


def test_jsonl_has_one_typed_object_per_line(load: Load, export: Export) -> None:
    load(ROWS)
    out = export(standard("pe"), custom("boss"), fmt="jsonl")
    assert out.names() == ["pe.jsonl", "boss.jsonl", "users.jsonl", "manifest.json"]
    first, second = (orjson.loads(line) for line in out.read("pe.jsonl").splitlines())
    assert first["devtodev ID"] == 1 and first["time"] == at(1) and first["level"] == 3
    assert (first["success"], first["duration"], first["spent"]) == (True, 1.5, "Gold: 2")
    assert (second["duration"], second["spent"]) == (None, None)
    (boss,) = (orjson.loads(line) for line in out.read("boss.jsonl").splitlines())
    assert (boss["hp"], boss["name"]) == ("10", "Ogre")
    users = [orjson.loads(line) for line in out.read("users.jsonl").splitlines()]
    assert [u["devtodev ID"] for u in users] == [1, 2]
    assert out.progress[-1] == 99


def test_parquet_reads_back_with_pyarrow(load: Load, export: Export) -> None:
    load(ROWS)
    out = export(standard("pe"), custom("boss"), standard("tr"), fmt="parquet")
    assert out.names() == [
        "pe.parquet",
        "boss.parquet",
        "tr.parquet",
        "users.parquet",
        "manifest.json",
    ]
    pe = pq.read_table(io.BytesIO(out.read("pe.parquet"))).to_pylist()
    assert [r["location"] for r in pe] == ['cave, "deep"\nend', "hill"]
    assert [r["success"] for r in pe] == [True, False]
    assert [r["time"] for r in pe] == [at(1), at(2)]
    boss = pq.read_table(io.BytesIO(out.read("boss.parquet")))
    assert boss.column_names[-2:] == ["hp", "name"]
    assert pq.read_table(io.BytesIO(out.read("tr.parquet"))).num_rows == 0
    users = pq.read_table(io.BytesIO(out.read("users.parquet")))
    assert users.column("devtodev ID").to_pylist() == [1, 2]
    assert out.progress[-1] == 99
