"""Query parameters: every value of a job reaches ClickHouse through a `{pN:Type}` placeholder."""

from __future__ import annotations

from typing import Any

__all__ = ["QueryParams"]


class QueryParams:
    """Collects placeholder values for one job; every query of the job is run with all of them."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any, clickhouse_type: str) -> str:
        """A new placeholder bound to `value`, as SQL text like `{p3:Float64}`."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"{{{name}:{clickhouse_type}}}"
