"""The event store interface that the export engine and loading are written against.

Backends are chosen by URL scheme (`chdb:///path` embedded, later `clickhouse://host`); all speak
ClickHouse SQL, so the export engine never needs to know which one it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

__all__ = ["EventStore", "Params"]

Params = Mapping[str, Any]
"""Query parameters for `{name:Type}` placeholders: str, int, float, bool, or lists of those."""


class EventStore(Protocol):
    url: str

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT ... SELECT)."""

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a SELECT and return its rows as Python values."""

    def export(self, sql: str, params: Params | None, fmt: str, path: str) -> int:
        """Write the result of SELECT `sql` to `path` (a file or a FIFO) in ClickHouse `fmt`.

        Null is written as an empty field in CSV formats. Returns the number of rows written.
        """

    def insert_file(self, table: str, path: str, fmt: str, columns: Sequence[str] = ()) -> None:
        """Append the rows of the file at `path`, in ClickHouse format `fmt`, to `table`."""

    def close(self) -> None: ...
