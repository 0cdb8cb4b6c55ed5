"""Files made in parts on several threads: the same report as made whole, on one thread, and
the parts cut from the table's primary index where it can, from the rows where it cannot."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest

from rawexport.domain.jobspec import Format, JobSpec
from rawexport.export import parts
from rawexport.export.engine import run_export
from rawexport.export.params import QueryParams
from rawexport.export.parts import part_sources
from rawexport.export.plan import count_files
from rawexport.reports import LocalReportStore
from rawexport.store import EventStore

from .conftest import END, START, Load, QueryLog, at, custom, standard


def _report(store: EventStore, spec: JobSpec, directory: Path, threads: int) -> dict[str, bytes]:
    directory.mkdir()
    with LocalReportStore(directory).writer("report.zip") as out:
        result = run_export(store, spec, out, lambda _: None, threads=threads)
        out.commit()
    assert not result.empty
    with zipfile.ZipFile(directory / "report.zip") as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_parts_on_threads_make_the_same_report_as_one_thread(
    load: Load,
    event_store: EventStore,
    app_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: Format,
) -> None:
    load(
        [
            {
                "event": "levelComplete",
                "devtodev ID": 1 + i % 40,
                "time": at(i),  # distinct times: the order of the rows is the same either way
                "params": {"stars": i % 4, **({"late": True} if i > 1700 else {})},
            }
            for i in range(2000)
        ]
        + [
            {"event": "sc", "devtodev ID": 7, "time": at(5 + 3 * i), "social": "vk"}
            for i in range(900)
        ]
        + [{"event": "levelComplete", "devtodev ID": 99, "time": at(10**7), "params": {}}]  # decoy
    )
    spec = JobSpec(app_id, START, END, (custom("levelComplete"), standard("sc")), format=fmt)
    whole = _report(event_store, spec, tmp_path / "whole", threads=1)
    monkeypatch.setattr(parts, "PART_ROWS", 300)  # 2000 rows in 4 parts, 900 in 3, on 4 threads
    assert parts.part_count(2000, 4) == 4
    cut = _report(event_store, spec, tmp_path / "cut", threads=4)
    assert cut == whole  # every file byte for byte, the manifest too
    manifest = orjson.loads(cut["manifest.json"])
    assert [f["rows"] for f in manifest["files"]][:2] == [2000, 900]


def _insert_gs(store: EventStore, app: str, rows: int) -> None:
    """`rows` session rows of `app`, ever denser in time: cut by time alone, parts would differ."""
    store.execute(
        "INSERT INTO ev_gs (app_id, time, `devtodev ID`, _batch)"
        " SELECT {app:String}, {start:Int64} + intDiv(number * number, 100000), number % 500, 1"
        " FROM numbers({rows:UInt64})",
        {"app": app, "start": at(0), "rows": rows},
    )


def _cut(store: EventStore, app: str, parts: int, *, marks: str | None = None) -> list[int]:
    """The rows of each part of the app's `gs.csv` cut into `parts`."""
    params = QueryParams()
    spec = JobSpec(app, START, END, (standard("gs"),))
    (file,) = count_files(store, spec, params, ".csv", set())
    sources = part_sources(store, file.source, marks or file.marks, params, parts)
    counts = [int(store.rows(f"SELECT count() {s}", params.values)[0][0]) for s in sources]
    assert sum(counts) == file.rows  # every row in one part, and only the app's
    return counts


def test_a_large_file_is_cut_at_its_primary_index_without_reading_its_rows(
    event_store: EventStore, app_id: str
) -> None:
    _insert_gs(event_store, app_id, 300_000)  # 36 granules, for 4 parts of 9
    _insert_gs(event_store, f"{app_id}-decoy", 300_000)  # the same times, another app
    store = QueryLog(event_store)

    counts = _cut(store, app_id, 4)

    cut = [q for q in store.queries if "quantiles" in q]
    assert len(cut) == 1 and "mergeTreeIndex(" in cut[0]  # the marks, not the rows
    assert len(counts) == 4
    granule = 8192  # each bound is off by up to one granule's rows
    assert all(abs(rows - 300_000 / 4) <= 2 * granule for rows in counts), counts


def test_the_rows_are_cut_where_the_index_cannot_cut_them(
    event_store: EventStore, app_id: str
) -> None:
    _insert_gs(event_store, app_id, 6_000)  # one granule: too coarse for 2 parts
    store = QueryLog(event_store)
    halves = _cut(store, app_id, 2)
    assert [q for q in store.queries if "quantiles(" in q and "FROM `ev_gs`" in q]
    assert all(abs(rows - 3_000) <= 30 for rows in halves), halves  # early times repeat

    # A server whose index cannot be read (a ClickHouse before mergeTreeIndex) cuts the same.
    unreadable = "FROM mergeTreeIndex(currentDatabase(), `no_such_table`) WHERE 1"
    assert _cut(event_store, app_id, 2, marks=unreadable) == halves
