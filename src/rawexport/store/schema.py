"""The event store's tables, derived from the catalogue: one MergeTree table per event table.

Every event table holds `app_id`, the event time `time` (UNIX ms, never null; for `rp` and `sbs`
it is the report's `date`), then the catalogue's columns and extra columns. User cards live in a
ReplacingMergeTree: a newer `_version` of a card replaces the older one, so readers use FINAL.
Every event row also carries `_batch`, the load batch that stored it (`rawexport.meta.batches`),
with a minmax index: jobs export the rows of the batches up to their snapshot. It is no column
of any report.
Tables are named without a database: they live in the store's own (`EventStore.database`), which
the store creates when it opens.
"""

from __future__ import annotations

from collections.abc import Iterable

from rawexport.domain import catalog
from rawexport.store.base import EventStore
from rawexport.store.loading.batches import batches_table_statement
from rawexport.store.sql import quote_identifier
from rawexport.store.upgrades import add_column, add_index, upgrade_store

__all__ = [
    "BATCH_COLUMN",
    "EVENT_TABLES",
    "VERSION_COLUMN",
    "ensure_schema",
    "known_custom_events",
    "stored_columns",
    "table_name",
]

VERSION_COLUMN = "_version"
BATCH_COLUMN = "_batch"
BATCH_DEFINITION = f"{BATCH_COLUMN} UInt64 DEFAULT 0"
"""Rows stored before the column existed read as batch 0: part of every first snapshot."""
BATCH_INDEX = f"batch_range {BATCH_COLUMN} TYPE minmax GRANULARITY 1"
"""The batches of each granule: a query for the rows loaded after a snapshot skips every
granule loaded before it, so a job's counts need not read the batch of every row."""
EVENT_TABLES: tuple[catalog.Table, ...] = (*catalog.STANDARD_EVENTS.values(), catalog.CUSTOM_TABLE)

# Sorting keys cannot be Nullable; loading rejects events and cards without them anyway.
_NOT_NULL = frozenset({"devtodev ID", "event"})
_TIME_COLUMNS = frozenset({"time", "date"})


def table_name(table: catalog.Table) -> str:
    """The quoted name of the stored table behind a catalogue table, in the store's database."""
    return quote_identifier(table.table)


def _column_type(column: catalog.Column) -> str:
    if column.name in _NOT_NULL:
        return column.kind.value
    return column.kind.clickhouse_type


def stored_columns(table: catalog.Table) -> tuple[tuple[str, str], ...]:
    """(name, ClickHouse type) of every stored column of `table`, in table order."""
    if table is catalog.USERS:
        head = [("app_id", "String")]
        tail = [(VERSION_COLUMN, "UInt64")]
    else:
        head = [("app_id", "String"), ("time", "Int64")]
        tail = []
    body = [
        (c.name, _column_type(c))
        for c in table.columns + table.extra
        if c.name not in _TIME_COLUMNS
    ]
    return (*head, *body, *tail)


def _create_statement(table: catalog.Table) -> str:
    columns = ",\n    ".join(f"{quote_identifier(n)} {t}" for n, t in stored_columns(table))
    if table is not catalog.USERS:
        columns += f",\n    {BATCH_DEFINITION},\n    INDEX {BATCH_INDEX}"
    if table is catalog.USERS:
        engine = f"ReplacingMergeTree({VERSION_COLUMN})"
        order = "app_id, `devtodev ID`"
    else:
        engine = "MergeTree"
        order = "app_id, event, time" if table is catalog.CUSTOM_TABLE else "app_id, time"
    return (
        f"CREATE TABLE IF NOT EXISTS {table_name(table)} (\n    {columns}\n)"
        f" ENGINE = {engine} ORDER BY ({order})"
    )


def ensure_schema(store: EventStore) -> None:
    """Create every table that does not exist yet, in the store's database."""
    for table in (*EVENT_TABLES, catalog.USERS):
        store.execute(_create_statement(table))
    store.execute(batches_table_statement())
    add_column(store, EVENT_TABLES, BATCH_DEFINITION)
    add_index(store, EVENT_TABLES, BATCH_INDEX)
    upgrade_store(store)


def known_custom_events(store: EventStore, app_id: str, names: Iterable[str]) -> set[str]:
    """Those of `names` that `app_id` has received as custom events, ever.

    One `LIMIT 1` lookup per name on the table's sorting key (app_id, event, time): the cost
    does not grow with the number of stored events.
    """
    wanted = sorted(set(names))
    if not wanted:
        return set()
    params: dict[str, str] = {"app_id": app_id}
    lookups = []
    for n, name in enumerate(wanted):
        params[f"e{n}"] = name
        lookups.append(
            f"(SELECT event FROM {table_name(catalog.CUSTOM_TABLE)}"
            f" WHERE app_id = {{app_id:String}} AND event = {{e{n}:String}} LIMIT 1)"
        )
    return {str(name) for (name,) in store.rows(" UNION ALL ".join(lookups), params)}
