"""The sample files of examples/ load as they are, with the real loader, as docs/loading.md says."""

from __future__ import annotations

from pathlib import Path

import pytest

from rawexport.domain import catalog
from rawexport.meta.batches import BatchLedger
from rawexport.store import EventStore, table_name
from rawexport.store.loading import load_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

EXPECTED: dict[str, dict[str, int]] = {
    "users.jsonl": {"users": 2},
    "users.csv": {"users": 1},
    "events.jsonl": {
        **dict.fromkeys(("rg", "lu", "pe", "ip", "sbs", "adrv", "sc", "sp", "uu", "ud"), 1),
        **{"gs": 2, "tr": 3, "rp": 2, "levelComplete": 2, "shopOpened": 1},
    },
    "events.csv": {"tr": 2, "pe": 1, "shopOpened": 1},
}


def test_every_example_file_is_listed() -> None:
    assert {p.name for p in EXAMPLES.iterdir()} == set(EXPECTED)


@pytest.fixture
def loaded(ledger: BatchLedger, event_store: EventStore, app_id: str) -> dict[str, dict[str, int]]:
    """Cards first, as docs/loading.md advises, so that events are filled in from them."""
    return {
        name: load_file(
            event_store, app_id, EXAMPLES / name, users=name.startswith("users"), ledger=ledger
        ).rows
        for name in ("users.jsonl", "users.csv", "events.jsonl", "events.csv")
    }


def test_the_examples_load_with_the_documented_row_counts(
    loaded: dict[str, dict[str, int]],
) -> None:
    assert loaded == EXPECTED


def test_events_without_level_tester_and_install_date_take_them_from_the_card(
    loaded: dict[str, dict[str, int]], event_store: EventStore, app_id: str
) -> None:
    rows = event_store.rows(
        f"SELECT DISTINCT `devtodev ID`, level, isTester, install_date"
        f" FROM {table_name(catalog.STANDARD_EVENTS['tr'])} WHERE app_id = {{a:String}}"
        " ORDER BY `devtodev ID`",
        {"a": app_id},
    )
    assert rows == [(2, 1, True, 1795140000), (3, 1, False, 1795149900)]
