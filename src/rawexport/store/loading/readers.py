"""Readers of loadable files, chosen by file ending; each yields (line number, object).

A line that cannot be read as an object yields `Unreadable` in place of the object.

JSON lines give objects as written. CSV and Parquet give one object per row keyed by column
name, with empty cells left out, map columns decoded from JSON text and values typed by the
column they are loaded into, so that all three formats meet the same validation.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rawexport.domain import catalog
from rawexport.domain.catalog import Kind
from rawexport.store.loading.validate import column_kind, table_of

__all__ = ["FILE_FORMATS", "JSON_LINES", "Record", "Unreadable", "read_records"]

_PARQUET_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Unreadable:
    """Why a line is not an object at all."""

    message: str


Record = tuple[int, dict[str, Any] | Unreadable]


def _json_lines(path: Path, users: bool) -> Iterator[Record]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                yield number, Unreadable(f"not valid JSON: {e}")
                continue
            yield number, obj if type(obj) is dict else Unreadable("not a JSON object")


def _bool_text(text: str) -> bool | str:
    return {"true": True, "false": False}.get(text.lower(), text)


_FROM_TEXT: dict[Kind, Callable[[str], Any]] = {
    Kind.INT: int,
    Kind.FLOAT: float,
    Kind.BOOL: _bool_text,
    Kind.STRING: str,
    Kind.CURRENCY_MAP: orjson.loads,
    Kind.PARAM_MAP: orjson.loads,
}


def _typed(
    cells: dict[str, Any], users: bool, decode: Callable[[Kind, Any], Any]
) -> dict[str, Any]:
    table = catalog.USERS if users else table_of(cells.get("event"))
    obj = {}
    for key, value in cells.items():
        kind = column_kind(table, key)
        if value is None or kind is None:
            # Null cells are absent; unknown columns pass on for validation to name them.
            if value is not None:
                obj[key] = value
            continue
        try:
            obj[key] = decode(kind, value)
        except ValueError:
            obj[key] = value  # left for validation to report with the expected type
    return obj


def _from_csv_cell(kind: Kind, text: str) -> Any:
    return _FROM_TEXT[kind](text)


def _csv(path: Path, users: bool) -> Iterator[Record]:
    with path.open(newline="", encoding="utf-8") as text:
        reader = csv.DictReader(text)
        first_line = 2  # the header is line 1
        try:
            for cells in reader:
                if None in cells:
                    yield first_line, Unreadable("more cells than header columns")
                else:
                    present = {k: v for k, v in cells.items() if v != ""}  # empty cell = absent
                    yield first_line, _typed(present, users, _from_csv_cell)
                first_line = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as e:
            yield first_line, Unreadable(f"not valid CSV: {e}")


def _from_parquet_value(kind: Kind, value: Any) -> Any:
    if kind in (Kind.CURRENCY_MAP, Kind.PARAM_MAP):
        if isinstance(value, str):
            return orjson.loads(value)
        if isinstance(value, list):  # an Arrow map: [(key, value), ...]
            return dict(value)
        if isinstance(value, dict):  # a struct: fields missing from this row are null
            return {k: v for k, v in value.items() if v is not None}
    if kind is Kind.INT and isinstance(value, float) and value.is_integer():
        return int(value)  # integer columns with nulls often arrive as floats
    return value


def _parquet(path: Path, users: bool) -> Iterator[Record]:
    # Imported here, not with the module: pyarrow and numpy are about 45 MB resident, which an
    # API node or worker on a ClickHouse server (no chDB, which imports them itself) would
    # otherwise hold without ever reading Parquet.
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_PARQUET_BATCH_ROWS):
        for cells in batch.to_pylist():
            number += 1
            yield number, _typed(cells, users, _from_parquet_value)


JSON_LINES = (".jsonl", ".json", ".ndjson")
"""File endings of JSON lines."""

FILE_FORMATS: dict[str, str] = {
    **dict.fromkeys(JSON_LINES, "jsonl"),
    ".csv": "csv",
    ".parquet": "parquet",
}
"""Loadable file endings and the format each is read as."""

_FORMAT_READERS: dict[str, Callable[[Path, bool], Iterator[Record]]] = {
    "jsonl": _json_lines,
    "csv": _csv,
    "parquet": _parquet,
}
_READERS = {ending: _FORMAT_READERS[fmt] for ending, fmt in FILE_FORMATS.items()}


def read_records(path: Path, *, users: bool) -> Iterator[Record]:
    """The objects of `path`, read lazily."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: unknown file ending; use one of {', '.join(_READERS)}")
    return reader(path, users)
