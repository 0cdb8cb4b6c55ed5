"""The SQL that moves staged rows into place: events with card fill-in, and card merges."""

from __future__ import annotations

from rawexport.domain import catalog
from rawexport.store.loading.validate import loadable_columns
from rawexport.store.schema import BATCH_COLUMN, VERSION_COLUMN, stored_columns, table_name
from rawexport.store.sql import quote_identifier, quote_string

__all__ = [
    "CARD_STAGING",
    "LINE_COLUMN",
    "NAMED_COLUMN",
    "event_staging",
    "insert_events",
    "merge_cards",
]

LINE_COLUMN = "_line"
"""Staged cards: the line a card came from, so that a later line of the file wins."""
NAMED_COLUMN = "_named"
"""Staged cards: the fields the card names; the others keep their stored value."""

_ID = quote_identifier("devtodev ID")
_USERS = table_name(catalog.USERS)
_CARD_FIELDS = stored_columns(catalog.USERS)[2:-1]  # between app_id, devtodev ID and version

CARD_STAGING = (
    "("
    + ", ".join(
        [f"{_ID} Int64", f"{LINE_COLUMN} UInt64", f"{NAMED_COLUMN} Array(String)"]
        + [f"{quote_identifier(n)} {t}" for n, t in _CARD_FIELDS]
    )
    + ") ENGINE = MergeTree ORDER BY tuple()"
)


# Not null where validation guarantees a value; the time is checked per table.
_STAGED_TYPES = {"devtodev ID": "Int64", "time": "Nullable(Int64)", "date": "Nullable(Int64)"}


def event_staging(table: catalog.Table) -> str:
    """The staging table for events of `table`: one column per key they may have."""
    columns = ", ".join(
        f"{quote_identifier(name)} {_STAGED_TYPES.get(name, kind.clickhouse_type)}"
        for name, kind in loadable_columns(table).items()
    )
    return f"({columns}) ENGINE = MergeTree ORDER BY tuple()"


def _time(table: catalog.Table) -> str:
    if table.time_column == "date":
        return "e.date"
    if table.id == "rg":
        return "coalesce(e.time, e.install_date * 1000)"
    return "e.time"


def insert_events(table: catalog.Table, staged: str) -> str:
    """Copy staged rows into `table` for `{app_id:String}` as load batch `{batch:UInt64}`,
    filling in from the user cards."""
    columns = [name for name, _ in stored_columns(table)][1:]  # all but app_id
    defaults = {c: catalog.USER_DEFAULTS[c] for c in columns if c in catalog.USER_DEFAULTS}
    selected = ", ".join(
        _time(table)
        if c == "time"
        else f"coalesce(e.{quote_identifier(c)}, u.{quote_identifier(defaults[c])})"
        if c in defaults
        else f"e.{quote_identifier(c)}"
        for c in columns
    )
    cards = ", ".join(quote_identifier(card) for card in defaults.values())
    join = (
        f" LEFT JOIN (SELECT {_ID}, {cards} FROM {_USERS} FINAL"
        f" WHERE app_id = {{app_id:String}}) AS u ON e.{_ID} = u.{_ID}"
        if defaults
        else ""
    )
    return (
        f"INSERT INTO {table_name(table)}"
        f" (app_id, {', '.join(map(quote_identifier, columns))}, {BATCH_COLUMN})"
        f" SELECT {{app_id:String}}, {selected}, {{batch:UInt64}} FROM {staged} AS e{join}"
    )


def merge_cards(staged: str) -> str:
    """Merge staged cards into the stored ones of `{app_id:String}` as `{version:UInt64}`."""
    # Per user, each field takes its value from the last line that names it (the tuple keeps
    # a null value from being skipped), or keeps the stored value when no line names it.
    latest = ", ".join(
        f"argMaxIf(tuple({quote_identifier(n)}), {LINE_COLUMN},"
        f" has({NAMED_COLUMN}, {quote_string(n)})).1 AS v{i},"
        f" max(has({NAMED_COLUMN}, {quote_string(n)})) AS named{i}"
        for i, (n, _) in enumerate(_CARD_FIELDS)
    )
    merged = ", ".join(
        f"if(n.named{i}, n.v{i}, s.{quote_identifier(n)})" for i, (n, _) in enumerate(_CARD_FIELDS)
    )
    names = ", ".join(quote_identifier(n) for n, _ in _CARD_FIELDS)
    return (
        f"INSERT INTO {_USERS} (app_id, {_ID}, {names}, {VERSION_COLUMN})"
        f" SELECT {{app_id:String}}, n.{_ID}, {merged}, {{version:UInt64}}"
        f" FROM (SELECT {_ID}, {latest} FROM {staged} GROUP BY {_ID}) AS n"
        f" LEFT JOIN (SELECT * FROM {_USERS} FINAL WHERE app_id = {{app_id:String}}) AS s"
        f" ON n.{_ID} = s.{_ID}"
    )
