"""Which stored rows a job exports: the load batches up to its snapshot, after the one it
continues from; a load still moving its rows in at a snapshot falls into the next job."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from rawexport.domain.catalog import STANDARD_EVENTS
from rawexport.domain.jobspec import EventSelection, JobSpec
from rawexport.export.engine import run_export
from rawexport.meta.batches import BatchLedger
from rawexport.meta.db import connect
from rawexport.reports import LocalReportStore
from rawexport.store import EventStore, ensure_schema, open_store, table_name
from rawexport.store.chdb import ChdbStore
from rawexport.store.loading import LeaseLapsed, load_file
from rawexport.store.schema import BATCH_COLUMN, BATCH_INDEX, EVENT_TABLES
from rawexport.store.sql import quote_identifier
from tests.export.conftest import END, START, Exported, Load, at, custom, standard


class Preopened:
    """The ledger, except that the next load moves its rows in as batch `seq`, opened earlier."""

    def __init__(self, ledger: BatchLedger, seq: int) -> None:
        self._ledger, self.seq, self.lease_s = ledger, seq, ledger.lease_s

    def open(self, app_id: str) -> int:
        return self.seq

    def heartbeat(self, seq: int) -> bool:
        return self._ledger.heartbeat(seq)

    def commit(self, seq: int) -> bool:
        return self._ledger.commit(seq)

    def abandon(self, seq: int) -> None:
        self._ledger.abandon(seq)


def rows(social: str, count: int = 2) -> list[dict[str, Any]]:
    return [
        {"event": "sc", "devtodev ID": n, "time": at(1000 * n), "social": social}
        for n in range(1, count + 1)
    ]


def exported(
    store: EventStore,
    app_id: str,
    tmp_path: Path,
    snapshot: int,
    after: int | None = None,
    events: tuple[EventSelection, ...] = (standard("sc"),),
) -> Exported:
    spec = JobSpec(app_id, START, END, events, snapshot=snapshot, after_snapshot=after)
    path = tmp_path / f"report-{snapshot}-{after}.zip"
    with LocalReportStore(tmp_path).writer(path.name) as out:
        result = run_export(store, spec, out, lambda _: None)
        if not result.empty:
            out.commit()
    return Exported(result, path, [])


def socials(report: Exported) -> list[str]:
    return sorted(r["social"] for r in report.records("sc.csv"))


def test_a_load_moving_in_at_a_snapshot_falls_into_the_next_job(
    event_store: EventStore,
    ledger: BatchLedger,
    load: Load,
    app_id: str,
    tmp_path: Path,
) -> None:
    load(rows("before"))
    slow = ledger.open(app_id)  # a load that began before the first job's snapshot
    load(rows("quick"))  # a later load, already in place
    load(rows("other app"), app="another-app")
    first = ledger.snapshot()

    load_file(event_store, app_id, _file(tmp_path, rows("slow")), ledger=Preopened(ledger, slow))
    second = ledger.snapshot()
    load(rows("after"))
    third = ledger.snapshot()

    assert first == slow - 1
    assert socials(exported(event_store, app_id, tmp_path, first)) == ["before"] * 2
    continued = exported(event_store, app_id, tmp_path, second, after=first)
    assert socials(continued) == ["quick"] * 2 + ["slow"] * 2
    assert continued.manifest()["snapshot"] == str(second)
    assert continued.manifest()["after_snapshot"] == str(first)
    assert socials(exported(event_store, app_id, tmp_path, third, after=second)) == ["after"] * 2
    assert exported(event_store, app_id, tmp_path, third, after=third).result.empty


def test_rows_of_batches_after_the_snapshot_are_not_counted(
    event_store: EventStore, ledger: BatchLedger, load: Load, app_id: str, tmp_path: Path
) -> None:
    before = ledger.snapshot()
    load(rows("first", count=3))
    first = ledger.snapshot()
    load(rows("second", count=2))

    # Only rows of a later batch in the window: the job is empty, as if they were not there.
    assert exported(event_store, app_id, tmp_path, before).result.empty
    # The manifest's rows are the rows the snapshot holds (a ClickHouse server's streams are not
    # counted, so there they are the job's own counts).
    report = exported(event_store, app_id, tmp_path, first)
    assert socials(report) == ["first"] * 3
    assert [f["rows"] for f in report.manifest()["files"] if f["file"] == "sc.csv"] == [3]
    both = exported(event_store, app_id, tmp_path, ledger.snapshot())
    assert [f["rows"] for f in both.manifest()["files"] if f["file"] == "sc.csv"] == [5]


def test_a_load_whose_lease_lapsed_stores_nothing(
    event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'meta.sqlite3'}")
    ledger, brief = BatchLedger(engine, lease_s=60), BatchLedger(engine, lease_s=0.2)
    stalled = brief.open(app_id)
    deadline = time.monotonic() + 10
    while ledger.snapshot() < stalled:  # the lapsed lease no longer holds the watermark back
        assert time.monotonic() < deadline
        time.sleep(0.02)

    with pytest.raises(LeaseLapsed, match=f"load batch {stalled} lost its lease"):
        load_file(
            event_store, app_id, _file(tmp_path, rows("late")), ledger=Preopened(brief, stalled)
        )

    assert exported(event_store, app_id, tmp_path, ledger.snapshot()).result.empty
    engine.dispose()


@pytest.fixture
def old_store(request: pytest.FixtureRequest, event_store: EventStore) -> Iterator[EventStore]:
    """A store of the same backend, in a database of its own, as a release before batches left
    it: event tables without `_batch` (nor its index)."""
    database = f"old_{uuid.uuid4().hex[:12]}"
    if isinstance(event_store, ChdbStore):
        of_its_own = type("OldStore", (ChdbStore,), {"database": database})
        store: EventStore = of_its_own(Path(event_store.url.removeprefix("chdb://")))
    else:
        store = open_store(f"{request.getfixturevalue('clickhouse_server')}/{database}")
    ensure_schema(store)
    for table in EVENT_TABLES:
        index = BATCH_INDEX.split()[0]
        store.execute(f"ALTER TABLE {table_name(table)} DROP INDEX {index}")
        store.execute(f"ALTER TABLE {table_name(table)} DROP COLUMN {BATCH_COLUMN}")
    yield store
    store.execute(f"DROP DATABASE {quote_identifier(database)}")
    if not isinstance(store, ChdbStore):  # chDB's connections are the process's own session
        store.close()


def test_an_old_store_gets_the_column_in_place_and_its_rows_are_the_first_snapshot(
    old_store: EventStore, ledger: BatchLedger, app_id: str, tmp_path: Path
) -> None:
    old_store.execute(
        f"INSERT INTO {table_name(STANDARD_EVENTS['sc'])} (app_id, time, `devtodev ID`, social)"
        " VALUES ({app:String}, {t:Int64}, 1, 'stored before'), ('other', {t:Int64}, 1, 'x')",
        {"app": app_id, "t": at(5)},
    )
    ensure_schema(old_store)  # as on start: the column and its index come back, the rows stay
    indexed = old_store.rows(
        "SELECT table FROM system.data_skipping_indices"
        " WHERE database = currentDatabase() AND name = {i:String}",
        {"i": BATCH_INDEX.split()[0]},
    )
    assert sorted(t for (t,) in indexed) == sorted(t.table for t in EVENT_TABLES)
    first = ledger.snapshot()
    load_file(old_store, app_id, _file(tmp_path, rows("new")), ledger=ledger)
    second = ledger.snapshot()

    assert socials(exported(old_store, app_id, tmp_path, first)) == ["stored before"]
    continued = exported(old_store, app_id, tmp_path, second, after=first)
    assert socials(continued) == ["new"] * 2


def _file(tmp_path: Path, lines: list[dict[str, Any]]) -> Path:
    path = tmp_path / f"{lines[0]['social'].replace(' ', '-')}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_batch_is_no_column_of_a_report_even_as_a_parameter_name(
    event_store: EventStore, ledger: BatchLedger, load: Load, app_id: str, tmp_path: Path
) -> None:
    load([{"event": "quest", "devtodev ID": 1, "time": at(5), "params": {"_batch": "mine"}}])
    load([{"event": "sc", "devtodev ID": 1, "time": at(6), "social": "x"}])

    events = (custom("quest"), standard("sc"))
    out = exported(event_store, app_id, tmp_path, ledger.snapshot(), after=0, events=events)

    assert out.records("quest.csv") == [
        {
            "devtodev ID": "1",
            "time": str(at(5)),
            "level": "",
            "isTester": "",
            "cheat": "",
            "install_date": "",
            "_batch": "mine",  # the event's own parameter, not the stored batch number
        }
    ]
    assert "_batch" not in out.rows("sc.csv")[0] and "_batch" not in out.rows("users.csv")[0]
