"""Valid rows gathered per table into chunk files of JSON lines, each handed on once full.

A chunk file is the unit that is staged (one `insert` each): large enough that a file of
events needs few queries, small enough that staging can start while reading goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["CHUNK_ROWS", "ChunkFiles"]

CHUNK_ROWS = 100_000
"""Rows per chunk file."""
_BUFFERED_ROWS = 2_048
"""Rows kept in memory per table before they are written out: one write call for many rows."""


class ChunkFiles:
    """Chunk files under `workdir` named `<prefix><n>.jsonl`; `full(table id, path)` is called
    for each chunk file once it has CHUNK_ROWS rows, or on `finish` for the partly filled ones."""

    def __init__(self, workdir: Path, prefix: str, full: Callable[[str, Path], None]) -> None:
        self._workdir = workdir
        self._prefix = prefix
        self._full = full
        self._open: dict[str, tuple[Path, IO[bytes]]] = {}
        self._buffered: dict[str, list[bytes]] = {}
        self._written: dict[str, int] = {}
        self._files = 0

    def write(self, table_id: str, row: bytes) -> None:
        """Add one row (a JSON object without its line end) to the chunk of `table_id`."""
        rows = self._buffered.get(table_id)
        if rows is None:
            rows = self._buffered[table_id] = []
        rows.append(row)
        if len(rows) == _BUFFERED_ROWS:
            self._flush(table_id, rows)

    def _flush(self, table_id: str, rows: list[bytes]) -> None:
        chunk = self._open.get(table_id)
        if chunk is None:
            self._files += 1
            path = self._workdir / f"{self._prefix}{self._files}.jsonl"
            chunk = self._open[table_id] = (path, path.open("wb"))
            self._written[table_id] = 0
        chunk[1].write(b"\n".join(rows) + b"\n")
        self._written[table_id] += len(rows)
        rows.clear()
        if self._written[table_id] >= CHUNK_ROWS:
            self._hand_on(table_id)

    def _hand_on(self, table_id: str) -> None:
        path, out = self._open.pop(table_id)
        out.close()
        self._full(table_id, path)

    def finish(self) -> None:
        """Write out every buffered row and hand on every partly filled chunk."""
        for table_id, rows in self._buffered.items():
            if rows:
                self._flush(table_id, rows)
        for table_id in list(self._open):
            self._hand_on(table_id)

    def close(self) -> None:
        """Close the files of chunks not handed on (when reading failed)."""
        for _, out in self._open.values():
            out.close()
        self._open.clear()
