"""Files made in parts on several threads: the same report as made whole, on one thread."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest

from rawexport.domain.jobspec import Format, JobSpec
from rawexport.export import parts
from rawexport.export.engine import run_export
from rawexport.reports import LocalReportStore
from rawexport.store import EventStore

from .conftest import END, START, Load, at, custom, standard


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
