"""Report files as DataFrames. pandas and polars are optional (`rawexport[dataframes]`), so they
are imported only when asked for, with an error that says how to install them."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars

__all__ = ["MissingExtra", "read_pandas", "read_polars"]

# (frame name, member name in the archive)
Members = Sequence[tuple[str, str]]


class MissingExtra(ImportError):
    def __init__(self, library: str):
        super().__init__(
            f"{library} is not installed; install it with: pip install 'rawexport[dataframes]'"
        )


def read_pandas(archive: Path, members: Members) -> dict[str, Any]:
    try:
        import pandas
    except ImportError as exc:
        raise MissingExtra("pandas") from exc
    frames: dict[str, Any] = {}
    with zipfile.ZipFile(archive) as zf:
        for key, name in members:
            suffix = PurePosixPath(name).suffix
            with zf.open(name) as member:
                if suffix == ".parquet":
                    frames[key] = pandas.read_parquet(member)
                elif suffix == ".jsonl":
                    frames[key] = pandas.read_json(member, lines=True)
                else:
                    frames[key] = pandas.read_csv(member)
    return frames


def read_polars(archive: Path, members: Members) -> dict[str, polars.DataFrame]:
    try:
        import polars
    except ImportError as exc:
        raise MissingExtra("polars") from exc
    frames: dict[str, polars.DataFrame] = {}
    with zipfile.ZipFile(archive) as zf:
        for key, name in members:
            suffix = PurePosixPath(name).suffix
            data = zf.read(name)
            if suffix == ".parquet":
                frames[key] = polars.read_parquet(data)
            elif suffix == ".jsonl":
                frames[key] = polars.read_ndjson(data) if data.strip() else polars.DataFrame()
            else:
                frames[key] = polars.read_csv(data)
    return frames
