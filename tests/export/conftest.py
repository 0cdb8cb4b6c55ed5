"""Export test helpers: load rows through the real loader, export, read the real ZIP back."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from rawexport.domain.jobspec import Condition, EventSelection, Filter, Format, JobSpec
from rawexport.export.engine import ExportResult, run_export
from rawexport.meta.batches import BatchLedger
from rawexport.reports import LocalReportStore
from rawexport.store import EventStore
from rawexport.store.base import Params, ResultStream
from rawexport.store.loading import load_file

START = 1_700_000_000
"""The start of every test interval, UNIX seconds; events sit at START * 1000 + offset."""
END = START + 3600


def at(offset_ms: int) -> int:
    return START * 1000 + offset_ms


def request_filters(raw: dict[str, dict[str, Any]]) -> tuple[Filter, ...]:
    """Filters written as in a request: `{"param": {"gt": 5}, "other": {}}`."""
    return tuple(
        Filter(name, tuple(Condition(op, value) for op, value in ops.items()))
        for name, ops in raw.items()
    )


def standard(event: str) -> EventSelection:
    return EventSelection(event, False, event)


def custom(
    name: str, alias: str | None = None, filters: dict[str, dict[str, Any]] | None = None
) -> EventSelection:
    return EventSelection(name, True, alias or name, alias, request_filters(filters or {}))


@dataclass
class Exported:
    result: ExportResult
    path: Path
    progress: list[int]

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.path) as z:
            return z.namelist()

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(self.path) as z:
            return z.read(name)

    def rows(self, name: str) -> list[list[str]]:
        """The CSV file `name`, header first."""
        return list(csv.reader(io.StringIO(self.read(name).decode("utf-8"), newline="")))

    def records(self, name: str) -> list[dict[str, str]]:
        header, *rows = self.rows(name)
        return [dict(zip(header, row, strict=True)) for row in rows]

    def manifest(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.read("manifest.json"))
        return parsed


class QueryLog:
    """The real store, keeping the text of every query it runs."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.queries: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        self.queries.append(sql)
        return self._store.rows(sql, params)

    def stream(self, sql: str, params: Params | None, fmt: str) -> ResultStream:
        self.queries.append(sql)
        return self._store.stream(sql, params, fmt)


Load = Callable[..., None]
Export = Callable[..., Exported]


@pytest.fixture
def load(event_store: EventStore, app_id: str, tmp_path: Path, ledger: BatchLedger) -> Load:
    """Load event rows (or, with users=True, cards) for the test's app via the real loader."""
    counter = iter(range(1_000_000))

    def load_rows(rows: list[dict[str, Any]], *, users: bool = False, app: str = app_id) -> None:
        path = tmp_path / f"load-{next(counter)}.jsonl"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
        load_file(event_store, app, path, ledger=ledger, users=users)

    return load_rows


@pytest.fixture
def export(event_store: EventStore, app_id: str, tmp_path: Path) -> Export:
    """Run the export of the test's app and keep the ZIP and the progress reports."""

    def run(
        *events: EventSelection,
        all_custom: bool = False,
        fmt: Format = "csv",
        users_filter: dict[str, dict[str, Any]] | None = None,
        start: int = START,
        end: int = END,
    ) -> Exported:
        spec = JobSpec(
            app_id=app_id,
            start_date=start,
            end_date=end,
            events=events,
            all_custom=all_custom,
            format=fmt,
            users_filter=request_filters(users_filter or {}),
        )
        path = tmp_path / "report.zip"
        progress: list[int] = []
        with LocalReportStore(tmp_path).writer(path.name) as out:  # published as the pool does
            result = run_export(event_store, spec, out, progress.append)
            if not result.empty:
                out.commit()
        return Exported(result, path, progress)

    return run
