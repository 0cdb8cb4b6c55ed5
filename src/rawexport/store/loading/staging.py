"""Moving validated rows into the store: through private staging tables, finished in SQL.

While a file is still being read, finished chunks of valid rows are appended to staging tables
in the background (with `insert`). Only when the whole file proved valid does one
INSERT ... SELECT per table copy the rows into place, adding the app id and taking what the rows
lack from the user cards as they are now; the staging tables are dropped either way. This keeps
the work in the store whatever the file's size, and works on any backend that speaks ClickHouse.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from rawexport.domain import catalog
from rawexport.store.base import EventStore
from rawexport.store.leftovers import STAGING_PREFIX
from rawexport.store.sql import quote_identifier

__all__ = ["Staging"]


class Staging:
    """The staging tables of one load, one per catalogue table."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._tables: dict[catalog.Table, str] = {}
        self._pending: list[Future[None]] = []
        # Two writers: the store takes in one chunk while it reads another, and is not flooded.
        # The order of chunks does not matter: cards carry their line number.
        self._writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rawexport-load")

    def append(self, table: catalog.Table, definition: str, rows: Path) -> None:
        """Append the JSON-lines file `rows` (removed afterwards) to the staging table for
        `table`, created with `definition` (CREATE TABLE text after the name) if new."""
        staged = self._tables.get(table)
        if staged is None:
            # In the store's database; a crashed load's are dropped (see leftovers).
            staged = quote_identifier(f"{STAGING_PREFIX}{uuid.uuid4().hex}")
            self._store.execute(f"CREATE TABLE {staged} {definition}")
            self._tables[table] = staged
        self._pending.append(self._writer.submit(self._insert, staged, rows))

    def _insert(self, staged: str, rows: Path) -> None:
        self._store.insert(staged, str(rows), "JSONEachRow")
        rows.unlink()

    def move(self, into_place: Callable[[catalog.Table, str], None]) -> None:
        """Once all appended rows are in, call `into_place(table, staging table)` for every
        table, on the writers."""
        self._wait()
        self._pending = [self._writer.submit(into_place, *item) for item in self._tables.items()]
        self._wait()

    def _wait(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._writer.shutdown(wait=True)
        finally:
            for table in self._tables.values():
                self._store.execute(f"DROP TABLE IF EXISTS {table}")
