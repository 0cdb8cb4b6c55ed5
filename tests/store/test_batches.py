"""Loading is idempotent: a batch loaded before is reported and skipped, `force` loads it again."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from rawexport.domain.catalog import CUSTOM_TABLE
from rawexport.meta.batches import BatchLedger
from rawexport.store.base import EventStore
from rawexport.store.loading import load_file
from rawexport.store.schema import table_name

_TIME = 1_700_000_000_000


def events_file(path: Path, *names: str) -> Path:
    rows = [{"event": name, "devtodev ID": n, "time": _TIME + n} for n, name in enumerate(names)]
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def stored(store: EventStore, app_id: str) -> int:
    ((rows,),) = store.rows(
        f"SELECT count() FROM {table_name(CUSTOM_TABLE)} WHERE app_id = {{app:String}}",
        {"app": app_id},
    )
    return int(rows)


def test_the_same_file_twice_is_stored_once_and_the_repeat_says_when(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    path = events_file(tmp_path / "a.jsonl", "win", "lose", "win")

    first = load_file(event_store, app_id, path, ledger=ledger)
    again = load_file(event_store, app_id, path, ledger=ledger)

    assert first.total == 3 and first.already_loaded_on is None
    assert again.total == 0 and again.rows == {}
    assert again.already_loaded_on is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", again.already_loaded_on)
    assert stored(event_store, app_id) == 3


def test_force_loads_a_batch_again_on_purpose(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    path = events_file(tmp_path / "a.jsonl", "win", "lose")
    load_file(event_store, app_id, path, ledger=ledger)

    forced = load_file(event_store, app_id, path, force=True, ledger=ledger)

    assert forced.total == 2 and forced.already_loaded_on is None
    assert stored(event_store, app_id) == 4


def test_a_batch_is_one_app_s_and_known_by_its_bytes_or_its_key(
    ledger: BatchLedger, event_store: EventStore, app_id: str, tmp_path: Path
) -> None:
    other_app = f"{app_id}-other"
    path = events_file(tmp_path / "a.jsonl", "win")
    renamed = tmp_path / "b.jsonl"
    renamed.write_bytes(path.read_bytes())
    changed = events_file(tmp_path / "c.jsonl", "lose")
    retried = events_file(tmp_path / "d.jsonl", "lose", "lose")

    load_file(event_store, app_id, path, ledger=ledger)
    assert load_file(event_store, app_id, renamed, ledger=ledger).already_loaded_on is not None
    assert load_file(event_store, other_app, path, ledger=ledger).total == 1  # another app's batch
    assert load_file(event_store, app_id, changed, ledger=ledger).total == 1  # other bytes
    assert load_file(event_store, app_id, retried, batch_id="upload-7", ledger=ledger).total == 2
    # A retried upload with the same key: skipped whatever its bytes.
    assert load_file(
        event_store, app_id, changed, batch_id="upload-7", ledger=ledger
    ).already_loaded_on
    assert stored(event_store, app_id) == 4
    assert stored(event_store, other_app) == 1
