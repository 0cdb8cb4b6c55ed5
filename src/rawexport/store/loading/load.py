"""Loading one file of events or user cards into the store (docs/loading.md).

The whole file is validated before anything is stored: valid rows are written to chunk files
(so memory stays bounded) that are staged in the background, and only when no line was bad do
the staged rows move into their tables. JSON lines of events take the fast path (`lines`), on
every core for large files (`parallel`); cards, CSV and Parquet go through `readers`.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from functools import partial
from pathlib import Path

import orjson

from rawexport.domain import catalog
from rawexport.store.base import EventStore
from rawexport.store.leftovers import private_tempdir
from rawexport.store.loading.batches import file_digest, loaded_on, record_batch
from rawexport.store.loading.chunks import ChunkFiles
from rawexport.store.loading.lease import HeldBatch, Ledger, held_batch
from rawexport.store.loading.lines import MAX_REPORTED_ERRORS, Validated, validate_lines
from rawexport.store.loading.parallel import validate_in_parallel
from rawexport.store.loading.readers import JSON_LINES, Unreadable, read_records
from rawexport.store.loading.results import LoadError, LoadReport
from rawexport.store.loading.sql import (
    CARD_STAGING,
    LINE_COLUMN,
    NAMED_COLUMN,
    event_staging,
    insert_events,
    merge_cards,
)
from rawexport.store.loading.staging import Staging
from rawexport.store.loading.validate import normalise_card, normalise_event

__all__ = ["MAX_REPORTED_ERRORS", "PARALLEL_BYTES", "load_file"]

PARALLEL_BYTES = 16 << 20
"""JSON-lines files of events from this size on are validated on every core; below it,
starting the worker processes costs more than they save."""
_TABLES = {t.id: t for t in (*catalog.STANDARD_EVENTS.values(), catalog.CUSTOM_TABLE)}


def load_file(
    store: EventStore,
    app_id: str,
    path: Path,
    *,
    ledger: Ledger,
    users: bool = False,
    source_name: str | None = None,
    batch_id: str | None = None,
    force: bool = False,
) -> LoadReport:
    """Store the events (or, with `users`, the user cards) of `path` for `app_id`.

    Raises LoadError naming `source_name` (default: the path) and every bad line, having
    stored nothing, when any line is not valid. A batch (`batch_id`, default the file's
    digest) already loaded for the app is skipped and reported so, unless `force`; the batch
    is recorded once its rows are in place (see `batches`: a crash in between loads it again).
    Events move into place as one batch of `ledger`'s sequence (see `lease`), which may raise
    LeaseLapsed.
    """
    kind = "users" if users else "events"  # the same bytes as cards and as events differ
    batch = f"{kind}:{batch_id or file_digest(path)}"
    if not force and (before := loaded_on(store, app_id, batch)) is not None:
        return LoadReport(already_loaded_on=before)
    report = _load(store, ledger, app_id, path, users, source_name or str(path))
    record_batch(store, app_id, batch, report.total)
    return report


def _load(
    store: EventStore, ledger: Ledger, app_id: str, path: Path, users: bool, name: str
) -> LoadReport:
    work = private_tempdir("load")  # removed after a crash: see leftovers
    try:
        with Staging(store) as staging:
            stage = partial(_stage, staging)
            if users or path.suffix.lower() not in JSON_LINES:
                counts = _read(path, users, name, ChunkFiles(work, "", stage))
            elif (size := path.stat().st_size) >= PARALLEL_BYTES:
                counts = _refused_or_counted(name, validate_in_parallel(path, work, stage))
            else:
                validated = validate_lines(str(path), 0, size, str(work), "", stage)
                counts = _refused_or_counted(name, validated)
            if users:  # cards belong to no batch: every job reads them as they are now
                staging.move(partial(_cards_into_place, store, app_id))
            else:
                with held_batch(ledger, app_id) as batch:
                    staging.move(partial(_events_into_place, store, app_id, batch))
            return LoadReport(counts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cards_into_place(store: EventStore, app_id: str, table: catalog.Table, staged: str) -> None:
    store.execute(merge_cards(staged), {"app_id": app_id, "version": time.time_ns()})


def _events_into_place(
    store: EventStore, app_id: str, batch: HeldBatch, table: catalog.Table, staged: str
) -> None:
    batch.check()
    store.execute(insert_events(table, staged), {"app_id": app_id, "batch": batch.seq})


def _stage(staging: Staging, table_id: str, rows: Path) -> None:
    table = _TABLES.get(table_id, catalog.USERS)
    definition = CARD_STAGING if table is catalog.USERS else event_staging(table)
    staging.append(table, definition, rows)


def _refused_or_counted(name: str, validated: Validated) -> dict[str, int]:
    errors = [LoadError(name, line, message) for line, message in validated.errors]
    if errors:
        raise LoadError(name, errors[0].line, errors[0].message, errors[1:])
    return validated.counts


def _read(path: Path, users: bool, name: str, chunks: ChunkFiles) -> dict[str, int]:
    """Validate the rows of a file of cards, a CSV or a Parquet file into `chunks`."""
    counts: Counter[str] = Counter()
    errors: list[LoadError] = []
    try:
        for line, obj in read_records(path, users=users):
            try:
                if isinstance(obj, Unreadable):
                    raise ValueError(obj.message)
                if users:
                    row = normalise_card(obj)
                    row[NAMED_COLUMN] = list(obj)
                    row[LINE_COLUMN] = line
                    chunks.write(catalog.USERS.id, orjson.dumps(row))
                else:
                    event, table, _ = normalise_event(obj)
                    chunks.write(table.id, orjson.dumps(obj))
                counts[catalog.USERS.id if users else event] += 1
            except ValueError as e:
                errors.append(LoadError(name, line, str(e)))
                if len(errors) == MAX_REPORTED_ERRORS:
                    break
        if errors:
            raise LoadError(name, errors[0].line, errors[0].message, errors[1:])
        chunks.finish()
    finally:
        chunks.close()
    return dict(counts)
