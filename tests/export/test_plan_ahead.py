"""Planning ahead: a file that needs no planning query starts before the others' are done."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rawexport.domain.jobspec import JobSpec
from rawexport.export.engine import run_export
from rawexport.reports import LocalReportStore
from rawexport.store.base import EventStore, Params, ResultStream

from .conftest import END, START, Load, at, custom, standard

_DEADLINE_S = 10.0


class KeysWaitForAFile:
    """The real store, whose spread-map key queries wait until a file's own query has started
    (or the deadline passes): an export that finds every file's keys first cannot meet it."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.file_started = threading.Event()
        self.keys_saw_a_file: list[bool] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        if "mapKeys(" in sql:
            self.keys_saw_a_file.append(self.file_started.wait(_DEADLINE_S))
        return self._store.rows(sql, params)

    def stream(self, sql: str, params: Params | None, fmt: str) -> ResultStream:
        if "ORDER BY time" in sql:  # a file's query, not a planning one
            self.file_started.set()
        return self._store.stream(sql, params, fmt)


def test_a_file_without_keys_starts_while_the_keys_of_the_next_are_found(
    event_store: EventStore, app_id: str, load: Load, tmp_path: Path
) -> None:
    load(
        [
            *({"event": "gs", "devtodev ID": n, "time": at(n), "count": 1} for n in range(30)),
            *(
                {"event": "levelComplete", "devtodev ID": n, "time": at(n), "params": {"s": n}}
                for n in range(20)
            ),
            {"event": "levelComplete", "devtodev ID": 9, "time": at(10**8), "params": {"x": 1}},
        ]
    )
    spec = JobSpec(app_id, START, END, (standard("gs"), custom("levelComplete")))
    store = KeysWaitForAFile(event_store)

    with LocalReportStore(tmp_path).writer("report.zip") as out:
        result = run_export(store, spec, out, lambda _: None)

    assert store.keys_saw_a_file == [True]
    assert [(f.name, f.rows) for f in result.files[:2]] == [
        ("gs.csv", 30),
        ("levelComplete.csv", 20),
    ]
    assert result.files[1].columns[-1] == "s"  # the keys of the rows asked, not the decoy's
