"""Reports built as real ZIP files and read back."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from rawexport.client.frames import MissingExtra
from rawexport.client.report import Report

TR = "devtodev ID,time,level,step\n1,1000,1,-1\n2,2000,,5\n"
USERS = 'devtodev ID,Level,Country\n1,1,DE\n2,3,"line\nbreak"\n'
TR_AND_USERS = {"tr.csv": TR, "users.csv": USERS}


def make_archive(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_rows_are_counted_as_csv_records(tmp_path: Path) -> None:
    report = Report.from_archive(make_archive(tmp_path / "r.zip", TR_AND_USERS))
    assert report.rows == {"tr.csv": 2, "users.csv": 2}
    assert {f.name: f.size for f in report.files} == {"tr.csv": len(TR), "users.csv": len(USERS)}


def test_manifest_row_counts_are_used_and_manifest_is_not_a_data_file(tmp_path: Path) -> None:
    manifest = {"files": [{"file": "tr.parquet", "rows": 41}]}
    archive = make_archive(
        tmp_path / "r.zip", {"tr.parquet": "not read", "manifest.json": json.dumps(manifest)}
    )
    assert Report.from_archive(archive).rows == {"tr.parquet": 41}


def test_jsonl_rows_and_header_only_csv(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "r.zip",
        {"tr.jsonl": '{"a": 1}\n{"a": 2}\n{"a": 3}\n', "sc.csv": "devtodev ID,time\n"},
    )
    assert Report.from_archive(archive).rows == {"tr.jsonl": 3, "sc.csv": 0}


def test_extract_writes_every_data_file(tmp_path: Path) -> None:
    report = Report.from_archive(make_archive(tmp_path / "r.zip", TR_AND_USERS))
    paths = report.extract(tmp_path / "out")
    assert sorted(p.name for p in paths) == ["tr.csv", "users.csv"]
    assert (tmp_path / "out" / "tr.csv").read_text() == TR


def test_extract_cannot_escape_the_directory(tmp_path: Path) -> None:
    report = Report.from_archive(make_archive(tmp_path / "r.zip", {"../evil.csv": USERS}))
    report.extract(tmp_path / "out")
    assert not (tmp_path / "evil.csv").exists()
    assert (tmp_path / "out" / "evil.csv").read_text() == USERS


def test_to_pandas_and_to_polars_give_one_frame_per_file(tmp_path: Path) -> None:
    report = Report.from_archive(make_archive(tmp_path / "r.zip", TR_AND_USERS))
    pandas_frames = report.to_pandas()
    assert set(pandas_frames) == {"tr", "users"}
    assert list(pandas_frames["tr"].columns) == ["devtodev ID", "time", "level", "step"]
    assert pandas_frames["tr"]["step"].tolist() == [-1, 5]
    assert pandas_frames["users"]["Country"].tolist() == ["DE", "line\nbreak"]
    polars_frames = report.to_polars()
    assert set(polars_frames) == {"tr", "users"}
    assert polars_frames["users"]["Level"].to_list() == [1, 3]


def test_jsonl_frames(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "r.zip", {"tr.jsonl": '{"a": 1}\n{"a": 2}\n', "sc.jsonl": ""})
    report = Report.from_archive(archive)
    assert report.to_pandas()["tr"]["a"].tolist() == [1, 2]
    assert report.to_polars()["tr"]["a"].to_list() == [1, 2]
    assert report.to_polars()["sc"].height == 0


def test_an_empty_report_has_no_frames() -> None:
    report = Report(None, (), "Unfortunately the result of your request is empty.")
    assert report.to_pandas() == {} and report.to_polars() == {} and report.rows == {}


def test_missing_library_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = Report.from_archive(make_archive(tmp_path / "r.zip", {"users.csv": USERS}))
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(MissingExtra, match=r"rawexport\[dataframes\]"):
        report.to_pandas()
    with pytest.raises(MissingExtra, match="polars"):
        report.to_polars()


def test_frames_take_the_column_types_of_the_catalogue(tmp_path: Path) -> None:
    files = {
        "uu.csv": "devtodev ID,logged ip,os_version\n1,10.0.0.0,10.3\n2,,10\n",
        "pe.csv": "devtodev ID,time,level,success\n1,1000,,true\n2,2000,4,\n",
        "ip.csv": "devtodev ID,time,level,Coins\n1,1000,2,5\n",
        "ud.jsonl": '{"devtodev ID": 1, "udid_type": "idfa", "udid": "1234"}\n',
    }
    manifest = {"files": [{"file": "ip.csv", "event": "ip", "columns": ["Coins"], "rows": 1}]}
    files["manifest.json"] = json.dumps(manifest)
    frames = Report.from_archive(make_archive(tmp_path / "r.zip", files)).to_pandas()
    assert frames["uu"]["os_version"].tolist() == ["10.3", "10"]
    assert str(frames["pe"]["level"].dtype) == "Int64"
    assert frames["pe"]["success"].tolist()[0] is True
    assert str(frames["ip"]["Coins"].dtype) == "float64"  # a currency column of the manifest
    assert frames["ud"]["udid"].tolist() == ["1234"]  # JSON text that looks like a number
    polars_uu = Report.from_archive(make_archive(tmp_path / "p.zip", files)).to_polars()["uu"]
    assert polars_uu["os_version"].to_list() == ["10.3", "10"]


def test_a_parquet_report_without_pyarrow_raises_missing_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = Report.from_archive(make_archive(tmp_path / "r.zip", {"tr.parquet": "PAR1"}))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtra, match=r"pyarrow is not installed.*rawexport\[dataframes\]"):
        report.to_pandas()
