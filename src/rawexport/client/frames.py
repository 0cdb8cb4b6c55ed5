"""Report files as DataFrames. pandas, polars and pyarrow are optional (`rawexport[dataframes]`),
so they are imported only when asked for, with an error that says how to install them.

Text files are read with the column types of the catalogue: a CSV cell carries no type, and a
reader that guesses makes `os_version` 10.3 a float and an integer column with gaps floats.
Parquet files carry their own types.
"""

from __future__ import annotations

import importlib
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import TYPE_CHECKING, Any

from rawexport.domain.catalog import Kind

if TYPE_CHECKING:
    import polars

__all__ = ["FrameSource", "MissingExtra", "read_pandas", "read_polars"]


@dataclass(frozen=True)
class FrameSource:
    key: str
    """The frame's name: the file name without its ending."""
    member: str
    """The file's name in the archive."""
    kinds: Mapping[str, Kind]
    """The known column types; other columns are left to the reader."""


class MissingExtra(ImportError):
    def __init__(self, library: str):
        super().__init__(
            f"{library} is not installed; install it with: pip install 'rawexport[dataframes]'"
            " (in a clone of the repository: pip install '.[dataframes]')"
        )


# Nullable types, since an empty cell is a null of any column.
_PANDAS_TYPES = {
    Kind.INT: "Int64",
    Kind.FLOAT: "float64",
    Kind.BOOL: "boolean",
    Kind.STRING: "string",
    Kind.CURRENCY_MAP: "string",  # in a report: text like "Coins: 90, Gold: 10"
}
_POLARS_TYPES = {
    Kind.INT: "Int64",
    Kind.FLOAT: "Float64",
    Kind.BOOL: "Boolean",
    Kind.STRING: "String",
    Kind.CURRENCY_MAP: "String",
}


def _require(library: str) -> ModuleType:
    try:
        return importlib.import_module(library)
    except ImportError as exc:
        raise MissingExtra(library) from exc


def read_pandas(archive: Path, sources: Sequence[FrameSource]) -> dict[str, Any]:
    pandas = _require("pandas")
    frames: dict[str, Any] = {}
    with zipfile.ZipFile(archive) as zf:
        for source in sources:
            suffix = PurePosixPath(source.member).suffix
            types = {name: _PANDAS_TYPES[kind] for name, kind in source.kinds.items()}
            if suffix == ".parquet":
                _require("pyarrow")  # else pandas says only "Unable to find a usable engine"
            with zf.open(source.member) as member:
                if suffix == ".parquet":
                    frames[source.key] = pandas.read_parquet(member)
                elif suffix == ".jsonl":
                    frames[source.key] = pandas.read_json(member, lines=True, dtype=types)
                else:
                    frames[source.key] = pandas.read_csv(member, dtype=types)
    return frames


def read_polars(archive: Path, sources: Sequence[FrameSource]) -> dict[str, polars.DataFrame]:
    pl = _require("polars")
    frames: dict[str, polars.DataFrame] = {}
    with zipfile.ZipFile(archive) as zf:
        for source in sources:
            suffix = PurePosixPath(source.member).suffix
            data = zf.read(source.member)
            if suffix == ".parquet":
                frames[source.key] = pl.read_parquet(data)
            elif suffix == ".jsonl":  # JSON values carry their types
                frames[source.key] = pl.read_ndjson(data) if data.strip() else pl.DataFrame()
            else:
                types = {name: getattr(pl, _POLARS_TYPES[k]) for name, k in source.kinds.items()}
                frames[source.key] = pl.read_csv(data, schema_overrides=types)
    return frames
