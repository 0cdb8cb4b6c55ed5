"""Loading one file of events or user cards into the store (contract §10).

The whole file is validated before anything is stored: valid rows are written to chunk files
(so memory stays bounded) that are staged in the background, and only when no line was bad do
the staged rows move into their tables.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import IO

import orjson

from rawexport.domain import catalog
from rawexport.store.base import EventStore
from rawexport.store.loading.readers import Unreadable, read_records
from rawexport.store.loading.results import LoadError, LoadReport
from rawexport.store.loading.sql import (
    CARD_STAGING,
    LINE_COLUMN,
    NAMED_COLUMN,
    event_staging,
    insert_events,
    merge_cards,
)
from rawexport.store.loading.staging import Staging
from rawexport.store.loading.validate import normalise_card, normalise_event

__all__ = ["MAX_REPORTED_ERRORS", "load_file"]

MAX_REPORTED_ERRORS = 100
"""Reading stops after this many bad lines: the file is refused either way."""
_CHUNK_ROWS = 50_000
_DUMPS = orjson.OPT_APPEND_NEWLINE


def load_file(
    store: EventStore,
    app_id: str,
    path: Path,
    *,
    users: bool = False,
    source_name: str | None = None,
) -> LoadReport:
    """Store the events (or, with `users`, the user cards) of `path` for `app_id`.

    Raises LoadError naming `source_name` (default: the path) and every bad line, having
    stored nothing, when any line is not valid.
    """
    workdir = tempfile.TemporaryDirectory(prefix="rawexport-load-")
    with workdir, Staging(store) as staging:
        chunks = _Chunks(staging, Path(workdir.name))
        try:
            counts = _read(path, users, source_name or str(path), chunks)
            chunks.finish()
        finally:
            chunks.close()
        for table, staged in staging.filled().items():
            if table is catalog.USERS:
                store.execute(merge_cards(staged), {"app_id": app_id, "version": time.time_ns()})
            else:
                store.execute(insert_events(table, staged), {"app_id": app_id})
        return LoadReport(dict(counts))


def _read(path: Path, users: bool, name: str, chunks: _Chunks) -> Counter[str]:
    counts: Counter[str] = Counter()
    errors: list[LoadError] = []
    for line, obj, text in read_records(path, users=users):
        try:
            if isinstance(obj, Unreadable):
                raise ValueError(obj.message)
            if users:
                row = normalise_card(obj)
                row[NAMED_COLUMN] = list(obj)
                row[LINE_COLUMN] = line
                chunks.write(catalog.USERS, orjson.dumps(row, option=_DUMPS))
                counts[catalog.USERS.id] += 1
            else:
                event, table, rewritten = normalise_event(obj)
                if rewritten or text is None:
                    text = orjson.dumps(obj, option=_DUMPS)
                chunks.write(table, text)
                counts[event] += 1
        except ValueError as e:
            errors.append(LoadError(name, line, str(e)))
            if len(errors) == MAX_REPORTED_ERRORS:
                break
    if errors:
        raise LoadError(name, errors[0].line, errors[0].message, errors[1:])
    return counts


class _Chunks:
    """Rows written to a chunk file per table; a full chunk is staged at once."""

    def __init__(self, staging: Staging, workdir: Path) -> None:
        self._staging = staging
        self._workdir = workdir
        # Keyed by table id: hashing a Table (a dataclass) on every row is slow.
        self._open: dict[str, tuple[catalog.Table, Path, IO[bytes]]] = {}
        self._rows: Counter[str] = Counter()
        self._written = 0

    def write(self, table: catalog.Table, row: bytes) -> None:
        chunk = self._open.get(table.id)
        if chunk is None:
            self._written += 1
            path = self._workdir / f"{self._written}.jsonl"
            chunk = self._open[table.id] = (table, path, path.open("wb"))
        chunk[2].write(row)
        self._rows[table.id] += 1
        if self._rows[table.id] == _CHUNK_ROWS:
            self._stage(table.id)

    def _stage(self, table_id: str) -> None:
        table, path, out = self._open.pop(table_id)
        out.close()
        self._rows[table_id] = 0
        definition = CARD_STAGING if table is catalog.USERS else event_staging(table)
        self._staging.append(table, definition, path)

    def finish(self) -> None:
        """Stage every partly filled chunk."""
        for table_id in list(self._open):
            self._stage(table_id)

    def close(self) -> None:
        for _, _, out in self._open.values():
            out.close()
