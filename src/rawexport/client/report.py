"""A downloaded report: the archive, its data files with row counts, and ways to read them."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from rawexport.client import frames
from rawexport.client.columns import column_kinds

if TYPE_CHECKING:
    import polars

__all__ = ["MANIFEST", "Report", "ReportFile"]

# An extension of this project's server; a report from elsewhere has none and rows are counted.
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ReportFile:
    name: str
    rows: int | None
    size: int
    event: str | None = None
    """The event id or custom event name the file holds (`users` for users.csv), as
    manifest.json says; None without a manifest."""
    columns: tuple[str, ...] = ()
    """The file's columns as manifest.json lists them; empty without a manifest."""

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem

    def frame_source(self) -> frames.FrameSource:
        """How to read the file into a frame; without a manifest its name says the event."""
        kinds = column_kinds(self.event or self.stem, self.columns)
        return frames.FrameSource(self.stem, self.name, kinds)


@dataclass(frozen=True)
class Report:
    """`path` (the ZIP archive) is None for an empty result, whose `message` says so."""

    path: Path | None
    files: tuple[ReportFile, ...] = ()
    message: str = ""
    job_id: str | None = None
    """The job that made the report: what the next export gives as `continue_from`."""
    snapshot: str | None = None
    """Which stored rows the job exported, as the server tells (opaque); None if it did not."""

    @classmethod
    def from_archive(
        cls,
        archive: Path,
        message: str = "",
        *,
        job_id: str | None = None,
        snapshot: str | None = None,
    ) -> Report:
        with zipfile.ZipFile(archive) as zf:
            listed = _manifest_entries(zf)
            files = tuple(
                _file(zf, info, listed.get(info.filename, {}))
                for info in zf.infolist()
                if not info.is_dir() and info.filename != MANIFEST
            )
        return cls(archive, files, message, job_id, snapshot)

    @property
    def rows(self) -> dict[str, int | None]:
        return {f.name: f.rows for f in self.files}

    def extract(self, directory: Path) -> list[Path]:
        """Unpack every file into `directory`. zipfile drops absolute and `..` parts of member
        names, so an archive cannot write outside it."""
        if self.path is None:
            return []
        directory.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(self.path) as zf:
            return [Path(zf.extract(f.name, directory)) for f in self.files]

    def to_pandas(self) -> dict[str, Any]:
        """One pandas DataFrame per data file, keyed by the file name without its ending."""
        if self.path is None:
            return {}
        return frames.read_pandas(self.path, [f.frame_source() for f in self.files])

    def to_polars(self) -> dict[str, polars.DataFrame]:
        """One polars DataFrame per data file, keyed by the file name without its ending."""
        if self.path is None:
            return {}
        return frames.read_polars(self.path, [f.frame_source() for f in self.files])


def _manifest_entries(zf: zipfile.ZipFile) -> dict[str, dict[str, Any]]:
    """manifest.json's entry of each file, when it is there and readable."""
    if MANIFEST not in zf.namelist():
        return {}
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except ValueError:
        return {}
    entries = manifest.get("files") if isinstance(manifest, dict) else manifest
    if not isinstance(entries, list):
        return {}
    return {e["file"]: e for e in entries if isinstance(e, dict) and isinstance(e.get("file"), str)}


def _file(zf: zipfile.ZipFile, info: zipfile.ZipInfo, listed: dict[str, Any]) -> ReportFile:
    """A file of the archive; rows from the manifest, else counted."""
    rows = listed.get("rows")
    event = listed.get("event")
    columns = listed.get("columns")
    return ReportFile(
        info.filename,
        rows if isinstance(rows, int) else _count_rows(zf, info.filename),
        info.file_size,
        event if isinstance(event, str) else None,
        tuple(map(str, columns)) if isinstance(columns, list) else (),
    )


def _count_rows(zf: zipfile.ZipFile, name: str) -> int | None:
    suffix = PurePosixPath(name).suffix
    with zf.open(name) as member:
        if suffix == ".csv":
            # A csv reader, not a line count: a quoted field may hold line breaks.
            text = io.TextIOWrapper(member, encoding="utf-8", newline="")
            return max(0, sum(1 for _ in csv.reader(text)) - 1)
        if suffix == ".jsonl":
            return sum(1 for line in member if line.strip())
    return None
