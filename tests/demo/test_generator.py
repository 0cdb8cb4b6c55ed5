"""The demo game: seeded, inside its period, plausible, and loaded through the real loader."""

from __future__ import annotations

from pathlib import Path

from rawexport.demo.generator import generate_demo
from rawexport.domain import catalog
from rawexport.meta.batches import BatchLedger
from rawexport.store import EventStore, known_custom_events, table_name

END = 1_750_000_000


def test_demo_shapes(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    stats = generate_demo(
        event_store, app_id, users=400, days=10, seed=3, end=END, workdir=tmp_path, ledger=ledger
    )
    assert (stats.users, stats.start_date, stats.end_date) == (400, END - 10 * 86400, END)
    assert set(catalog.STANDARD_EVENTS) - set(stats.rows) <= {"sbs", "rp", "sc", "sp"}
    expected = {"levelComplete", "shopOpened", "questFinished"}
    assert known_custom_events(event_store, app_id, expected) == expected
    (low, high) = event_store.rows(
        f"SELECT min(time), max(time) FROM {table_name(catalog.STANDARD_EVENTS['gs'])}"
        " WHERE app_id = {a:String}",
        {"a": app_id},
    )[0]
    assert low >= END * 1000 - 10 * 86_400_000 and high < END * 1000
    ((cards, payers),) = event_store.rows(
        f"SELECT count(), countIf(Paying) FROM {table_name(catalog.USERS)} FINAL"
        " WHERE app_id = {a:String}",
        {"a": app_id},
    )
    assert cards == 400 and 0 < payers < 400 * 0.2
    sessions = event_store.rows(
        f"SELECT countIf(count = 1) AS n FROM {table_name(catalog.STANDARD_EVENTS['gs'])}"
        " WHERE app_id = {a:String} GROUP BY `devtodev ID` ORDER BY n",
        {"a": app_id},
    )
    assert sessions[len(sessions) // 2][0] <= 2  # most players churn early
    ((unfilled,),) = event_store.rows(
        f"SELECT countIf(install_date IS NULL) FROM {table_name(catalog.STANDARD_EVENTS['lu'])}"
        " WHERE app_id = {a:String}",
        {"a": app_id},
    )
    assert unfilled == 0


def test_demo_is_seeded(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    first = generate_demo(
        event_store, app_id, users=50, days=5, seed=9, end=END, workdir=tmp_path, ledger=ledger
    )
    again = generate_demo(
        event_store,
        f"{app_id}-again",
        users=50,
        days=5,
        seed=9,
        end=END,
        workdir=tmp_path,
        ledger=ledger,
    )
    assert first.rows == again.rows
