"""Bringing a store made by an earlier version up to the catalogue, keeping its rows.

`CREATE TABLE IF NOT EXISTS` leaves an existing table as it is, so a column whose type the
catalogue has since changed is converted here, in place, each time the store is opened (a
store already up to date costs one look at `system.columns`).

Columns added since (`_batch`) are added to the tables that lack them; rows stored before
read as the column's default. So are indexes (`_batch`'s minmax).

`rp.status` was text and is a boolean ("is transaction valid or not", like `pe.success`). The
old text becomes: `true`, `1`, `yes`, `valid`, `success` (any case) → true; `false`, `0`, `no`,
`invalid`, `failed`, `failure` → false; anything else → null, with a warning naming how many.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from rawexport.domain import catalog
from rawexport.store.base import EventStore
from rawexport.store.sql import quote_identifier, quote_string

__all__ = ["UPGRADES", "TextToBool", "add_column", "add_index", "upgrade_store"]

log = logging.getLogger(__name__)

# Wait for each mutation on every replica: the next statement needs its result.
_SYNC = "SETTINGS mutations_sync = 2"


@dataclass(frozen=True)
class TextToBool:
    """A text column of `table` that the catalogue now stores as a boolean."""

    table: catalog.Table
    column: str
    true: tuple[str, ...] = ("true", "1", "yes", "valid", "success")
    false: tuple[str, ...] = ("false", "0", "no", "invalid", "failed", "failure")

    def stored_type(self, store: EventStore) -> str | None:
        found = store.rows(
            "SELECT type FROM system.columns"
            " WHERE database = currentDatabase() AND table = {t:String} AND name = {c:String}",
            {"t": self.table.table, "c": self.column},
        )
        return str(found[0][0]) if found else None

    def apply(self, store: EventStore) -> None:
        table = quote_identifier(self.table.table)
        column = quote_identifier(self.column)
        text = f"lower(trim({column}))"
        true, false = (", ".join(map(quote_string, words)) for words in (self.true, self.false))
        ((unknown,),) = store.rows(
            f"SELECT count() FROM {table} WHERE {column} IS NOT NULL"
            f" AND {text} NOT IN ({true}) AND {text} NOT IN ({false})"
        )
        # Rewritten to the two words Bool parses first: a crash between the two statements
        # leaves text that the next start converts the same way.
        store.execute(
            f"ALTER TABLE {table} UPDATE {column} = multiIf({text} IN ({true}), 'true',"
            f" {text} IN ({false}), 'false', NULL) WHERE {column} IS NOT NULL {_SYNC}"
        )
        store.execute(f"ALTER TABLE {table} MODIFY COLUMN {column} Nullable(Bool) {_SYNC}")
        if unknown:
            log.warning(
                "%s.%s is now a boolean; %d stored values that were neither true nor false"
                " in any known spelling became null",
                self.table.id,
                self.column,
                unknown,
            )


UPGRADES: tuple[TextToBool, ...] = (TextToBool(catalog.STANDARD_EVENTS["rp"], "status"),)


def upgrade_store(store: EventStore) -> None:
    """Convert every column that an earlier version stored as text and is now a boolean."""
    for upgrade in UPGRADES:
        if upgrade.stored_type(store) == "Nullable(String)":
            upgrade.apply(store)


def add_index(store: EventStore, tables: Iterable[catalog.Table], definition: str) -> None:
    """Add the data-skipping index `definition` (`name expression TYPE ...`) to those `tables`
    that lack it. Parts stored before get it as they are merged, not at once: until then a query
    reads them as it did without the index, so nothing waits on rewriting a large table."""
    for table in _lacking(store, tables, "data_skipping_indices", definition.split()[0]):
        store.execute(
            f"ALTER TABLE {quote_identifier(table.table)} ADD INDEX IF NOT EXISTS {definition}"
        )


def add_column(store: EventStore, tables: Iterable[catalog.Table], definition: str) -> None:
    """Add the column `definition` (`name Type DEFAULT x`) to those `tables` that lack it: in
    place, without rewriting a row (ClickHouse reads the default for parts made before)."""
    for table in _lacking(store, tables, "columns", definition.split()[0]):
        store.execute(
            f"ALTER TABLE {quote_identifier(table.table)} ADD COLUMN IF NOT EXISTS"
            f" {definition} {_SYNC}"
        )


def _lacking(
    store: EventStore, tables: Iterable[catalog.Table], listing: str, name: str
) -> list[catalog.Table]:
    """Those of `tables` that have no `name` in `system.<listing>` (columns, indexes)."""
    having = store.rows(
        f"SELECT table FROM system.{listing}"
        " WHERE database = currentDatabase() AND name = {n:String}",
        {"n": name},
    )
    found = {str(table) for (table,) in having}
    return [table for table in tables if table.table not in found]
