"""A job's cost is linear in what it asks: one event under many aliases is read once per file."""

from __future__ import annotations

from pathlib import Path

from rawexport.domain.catalog import CUSTOM_TABLE
from rawexport.domain.jobspec import JobSpec
from rawexport.export.engine import run_export
from rawexport.reports import LocalReportStore
from rawexport.store.base import EventStore
from rawexport.store.schema import table_name
from tests.export.conftest import END, START, Load, QueryLog, at, custom

_ALIASES = 100


def test_an_event_under_a_hundred_aliases_is_probed_once_and_read_once_per_file(
    event_store: EventStore, app_id: str, load: Load, tmp_path: Path
) -> None:
    load(
        [
            *({"event": "levelComplete", "devtodev ID": n, "time": at(n)} for n in range(40)),
            {"event": "decoy", "devtodev ID": 999, "time": at(1)},
        ]
    )
    events = tuple(custom("levelComplete", alias=f"a{k}") for k in range(_ALIASES))
    spec = JobSpec(app_id=app_id, start_date=START, end_date=END, events=events)
    store = QueryLog(event_store)

    with LocalReportStore(tmp_path).writer("report.zip") as out:
        result = run_export(store, spec, out, lambda percent: None)

    custom_table = f"FROM {table_name(CUSTOM_TABLE)} "
    reads = [q.count(custom_table) for q in store.queries]
    counts = [q for q in store.queries if q.startswith(f"SELECT count() {custom_table}")]
    keys = [q for q in store.queries if "mapKeys(" in q]
    users = [q for q in store.queries if "LEFT JOIN" in q]
    assert len(counts) == 1 and len(keys) == 1  # the rows counted once, their keys found once
    # users.csv: written, and counted again where the backend does not count what it streams
    assert len(users) in (1, 2) and all(q.count(custom_table) == 1 for q in users)
    assert sum(reads) == 2 + _ALIASES + len(users)  # the probes, a file each, users
    assert result.rows == 40 * _ALIASES
    assert [f.name for f in result.files][:2] == ["a0.csv", "a1.csv"]
    assert all(f.rows == 40 for f in result.files[:-1])
