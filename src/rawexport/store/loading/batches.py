"""Loaded batches: a file of rows is stored once, however often it is loaded.

A batch is known by its id: the SHA-256 of the file, or for an upload the `Idempotency-Key` its
sender chose. Each batch loaded is recorded in the event store itself (`loaded_batches`), so the
record is right whichever machine loads, with the time by the store's clock. The record is
written after the rows are in place, never before: a crash between the two leaves the rows
unrecorded, and the batch is loaded again next time (once more rows rather than none).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rawexport.store.base import EventStore
from rawexport.store.sql import quote_identifier

__all__ = ["BATCHES_TABLE", "batches_table_statement", "file_digest", "loaded_on", "record_batch"]

BATCHES_TABLE = "loaded_batches"
_TABLE = quote_identifier(BATCHES_TABLE)
_READ_BLOCK = 1 << 20


def batches_table_statement() -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (app_id String, batch_id String,"
        " loaded_at DateTime64(3, 'UTC'), rows UInt64)"
        " ENGINE = MergeTree ORDER BY (app_id, batch_id)"
    )


def file_digest(path: Path) -> str:
    """The batch id of a file: the SHA-256 of its bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def loaded_on(store: EventStore, app_id: str, batch_id: str) -> str | None:
    """When the batch was last loaded for the app (`YYYY-MM-DD hh:mm:ss UTC`), or None."""
    ((count, when),) = store.rows(
        f"SELECT count(), formatDateTime(max(loaded_at), '%Y-%m-%d %H:%i:%S UTC', 'UTC')"
        f" FROM {_TABLE} WHERE app_id = {{app:String}} AND batch_id = {{batch:String}}",
        {"app": app_id, "batch": batch_id},
    )
    return str(when) if count else None


def record_batch(store: EventStore, app_id: str, batch_id: str, rows: int) -> None:
    store.execute(
        f"INSERT INTO {_TABLE} (app_id, batch_id, loaded_at, rows)"
        " SELECT {app:String}, {batch:String}, now64(3, 'UTC'), {rows:UInt64}",
        {"app": app_id, "batch": batch_id, "rows": rows},
    )
