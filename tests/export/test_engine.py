"""run_export end to end on the real store: files, users.csv, manifest, decoys, empty result."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from rawexport.domain.catalog import STANDARD_EVENTS, USERS
from rawexport.domain.jobspec import Format, JobSpec
from rawexport.export.engine import run_export
from rawexport.reports import LocalReportStore
from rawexport.store import EventStore, Params, ResultStream, table_name
from tests.store.running import wait_until_stopped

from .conftest import END, START, Export, Load, at, custom, standard


def card(user: int, **fields: object) -> dict[str, object]:
    return {
        "devtodev ID": user,
        "Level": 1,
        "Tester": False,
        "Cheater": False,
        "Created": START - 100,
        **fields,
    }


def test_writes_one_file_per_event_then_users_and_manifest(load: Load, export: Export) -> None:
    load([card(1), card(2)], users=True)
    load(
        [
            {"event": "tr", "devtodev ID": 1, "time": at(5), "step": -1},
            {"event": "tr", "devtodev ID": 2, "time": at(3), "step": 1},
            {"event": "sc", "devtodev ID": 1, "time": at(9), "social": "vk"},
        ]
    )
    out = export(standard("tr"), standard("sc"), standard("gs"))
    assert out.names() == ["tr.csv", "sc.csv", "gs.csv", "users.csv", "manifest.json"]
    assert out.rows("tr.csv") == [
        list(STANDARD_EVENTS["tr"].column_names),
        ["2", str(at(3)), "1", "1", "false", "false", str(START - 100)],
        ["1", str(at(5)), "1", "-1", "false", "false", str(START - 100)],
    ]
    assert out.rows("gs.csv") == [list(STANDARD_EVENTS["gs"].column_names)]
    assert out.result.rows == 3
    assert not out.result.empty
    assert out.result.size == out.path.stat().st_size


def test_interval_is_half_open_and_other_apps_never_leak(load: Load, export: Export) -> None:
    load(
        [
            {"event": "sc", "devtodev ID": 1, "time": at(0), "social": "first"},
            {"event": "sc", "devtodev ID": 1, "time": END * 1000 - 1, "social": "last"},
            {"event": "sc", "devtodev ID": 1, "time": at(-1), "social": "before"},
            {"event": "sc", "devtodev ID": 1, "time": END * 1000, "social": "at end"},
        ]
    )
    load(
        [{"event": "sc", "devtodev ID": 1, "time": at(5), "social": "other app"}], app="another-app"
    )
    out = export(standard("sc"))
    assert [r["social"] for r in out.records("sc.csv")] == ["first", "last"]


def test_no_row_in_the_interval_writes_no_file(load: Load, export: Export) -> None:
    load([{"event": "sc", "devtodev ID": 1, "time": END * 1000, "social": "x"}])
    out = export(standard("sc"), standard("tr"))
    assert out.result.empty
    assert out.result.files == []
    assert not out.path.exists()
    assert list(out.path.parent.iterdir()) == [out.path.parent / "load-0.jsonl"]


def test_aliases_become_safe_unique_file_names(load: Load, export: Export) -> None:
    load(
        [{"event": "users", "devtodev ID": 1, "time": at(1), "params": {"n": i}} for i in range(3)]
    )
    out = export(
        custom("users"),
        custom("users", alias="../x y", filters={"n": {"gt": 0}}),
        custom("users", alias="../X:Y", filters={"n": {"eq": 2}}),
    )
    assert out.names() == [
        "users_2.csv",
        ".._x_y.csv",
        ".._X_Y_2.csv",
        "users.csv",
        "manifest.json",
    ]
    assert [len(out.records(n)) for n in out.names()[:3]] == [3, 2, 1]


def test_all_custom_events_are_those_with_rows_in_the_interval(load: Load, export: Export) -> None:
    load(
        [
            {"event": "zeta", "devtodev ID": 1, "time": at(1)},
            {"event": "alpha", "devtodev ID": 1, "time": at(2)},
            {"event": "alpha", "devtodev ID": 1, "time": at(3), "params": {"k": 1}},
            {"event": "old", "devtodev ID": 1, "time": at(-9)},
            {"event": "tr", "devtodev ID": 1, "time": at(1), "step": 1},
        ]
    )
    out = export(standard("tr"), custom("zeta"), all_custom=True)
    assert out.names() == ["tr.csv", "zeta.csv", "alpha.csv", "users.csv", "manifest.json"]
    assert len(out.records("alpha.csv")) == 2


def test_manifest_lists_every_file(load: Load, export: Export) -> None:
    load([{"devtodev ID": 1, "Level": 3}], users=True)
    load(
        [{"event": "hit", "devtodev ID": 1, "time": at(i), "params": {"dmg": i}} for i in range(4)]
    )
    out = export(
        custom("hit", alias="big", filters={"dmg": {"gte": 2, "neq": [3, "x"]}}),
        standard("gs"),
        users_filter={"Level": {"eq": 3}},
    )
    files = out.manifest()["files"]
    assert files == [
        {
            "file": "big.csv",
            "event": "hit",
            "alias": "big",
            "filters": {"dmg": {"gte": 2, "neq": [3, "x"]}},
            "rows": 1,
            "columns": ["devtodev ID", "time", "level", "isTester", "cheat", "install_date", "dmg"],
        },
        {
            "file": "gs.csv",
            "event": "gs",
            "alias": None,
            "filters": {},
            "rows": 0,
            "columns": list(STANDARD_EVENTS["gs"].column_names),
        },
        {
            "file": "users.csv",
            "event": "users",
            "alias": None,
            "filters": {"Level": {"eq": 3}},
            "rows": 1,
            "columns": list(USERS.column_names),
        },
    ]
    assert [f.name for f in out.result.files] == ["big.csv", "gs.csv", "users.csv"]


def test_a_large_file_has_one_header_and_every_row_in_order(
    event_store: EventStore, app_id: str, export: Export
) -> None:
    rows = 300_000  # several ClickHouse blocks and several pipe buffers
    event_store.execute(
        f"INSERT INTO {table_name(STANDARD_EVENTS['tr'])} (app_id, time, `devtodev ID`, step)"
        " SELECT {app:String}, {start:Int64} + number, number % 1000, 1"
        " FROM numbers({rows:UInt64})",
        {"app": app_id, "start": at(0), "rows": rows},
    )
    out = export(standard("tr"))
    lines = out.read("tr.csv").decode().split("\n")
    assert lines[0].startswith('"devtodev ID"')
    assert sum(1 for line in lines if line.startswith('"devtodev ID"')) == 1
    assert len(lines) == rows + 2  # header, rows, and the empty string after the last \n
    assert [int(line.split(",")[1]) for line in lines[1:-1]] == list(range(at(0), at(rows)))
    assert out.result.rows == rows
    assert len(out.records("users.csv")) == 1000
    assert out.progress == sorted(out.progress)
    assert out.progress[0] >= 0 and out.progress[-1] == 99


class _FailsOnSecondStream:
    """The real store, except that its second result fails after part of it was read."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._numbers = itertools.count(1)  # files are made at once: one number per stream

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def stream(self, sql: str, params: Params | None, fmt: str) -> ResultStream:
        number = next(self._numbers)
        result = self._store.stream(sql, params, fmt)
        return _BrokenOff(result) if number == 2 else result


class _BrokenOff:
    def __init__(self, result: ResultStream) -> None:
        self._result = result
        self.rows = None

    def __enter__(self) -> _BrokenOff:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        yield from self._result
        raise RuntimeError("disk on fire")

    def cancel(self) -> None:
        self._result.cancel()

    def close(self) -> None:
        self._result.close()


def test_a_failure_leaves_no_file_behind(
    event_store: EventStore, app_id: str, load: Load, tmp_path: Path
) -> None:
    load(
        [
            {"event": "sc", "devtodev ID": 1, "time": at(1), "social": "x"},
            {"event": "tr", "devtodev ID": 1, "time": at(1), "step": 1},
        ]
    )
    spec = JobSpec(app_id, START, END, (standard("sc"), standard("tr")))
    reports = LocalReportStore(tmp_path / "out")
    store = cast(EventStore, _FailsOnSecondStream(event_store))
    with pytest.raises(RuntimeError, match="disk on fire"), reports.writer("report.zip") as out:
        run_export(store, spec, out, lambda _: None)
    assert list(reports.directory.iterdir()) == []


class _Stop(Exception):
    pass


def test_a_progress_callback_that_raises_stops_the_export(
    event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    rows = 1_000_000  # far more than one pipe buffer, so the query is mid-stream when stopped
    event_store.execute(
        f"INSERT INTO {table_name(STANDARD_EVENTS['tr'])} (app_id, time, `devtodev ID`, step)"
        " SELECT {app:String}, {start:Int64} + number, number, 1 FROM numbers({rows:UInt64})",
        {"app": app_id, "start": at(0), "rows": rows},
    )
    seen: list[int] = []

    def stop_at_first_report(percent: int) -> None:
        seen.append(percent)
        raise _Stop

    spec = JobSpec(app_id, START, END, (standard("tr"),))
    reports = LocalReportStore(tmp_path / "reports")
    with pytest.raises(_Stop), reports.writer("report.zip") as out:
        run_export(event_store, spec, out, stop_at_first_report)
    assert len(seen) == 1
    assert list(reports.directory.iterdir()) == []
    wait_until_stopped(event_store, table_name(STANDARD_EVENTS["tr"]))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_manifest_counts_the_rows_each_file_holds(
    load: Load, export: Export, fmt: Format
) -> None:
    # Whether the store counts what it writes (chDB) or not (a server): the same counts.
    load([card(user) for user in (1, 2, 3)], users=True)
    load(
        [{"event": "sc", "devtodev ID": u, "time": at(u), "social": "x"} for u in (1, 2, 4)]
        + [{"event": "tr", "devtodev ID": 5, "time": at(1), "step": 1}]
    )
    out = export(standard("sc"), standard("tr"), standard("gs"), fmt=fmt)
    counted = {f["file"]: f["rows"] for f in out.manifest()["files"]}
    ending = "." + fmt
    assert counted == {"sc" + ending: 3, "tr" + ending: 1, "gs" + ending: 0, "users" + ending: 4}
    for name, rows in counted.items():
        lines = out.read(name).decode().splitlines()
        assert len(lines) - (fmt == "csv") == rows  # a CSV file has a header line
    assert out.result.rows == 4
