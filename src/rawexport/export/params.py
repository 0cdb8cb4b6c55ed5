"""Query parameters: every value of a job reaches ClickHouse through a `{pN:Type}` placeholder."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["QueryParams"]


class QueryParams:
    """Collects placeholder values for one job; every query of the job is run with all of them.

    A job's threads add placeholders while others run queries (a file's columns and cut are
    found while earlier files are written), so each query takes a copy of the values as they
    are when it starts: those it names are in it, and no other thread changes it under it.
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def values(self) -> dict[str, Any]:
        """Every value added so far, by placeholder name (a copy)."""
        with self._lock:
            return dict(self._values)

    def add(self, value: Any, clickhouse_type: str) -> str:
        """A new placeholder bound to `value`, as SQL text like `{p3:Float64}`."""
        with self._lock:
            name = f"p{len(self._values)}"
            self._values[name] = value
        return f"{{{name}:{clickhouse_type}}}"
