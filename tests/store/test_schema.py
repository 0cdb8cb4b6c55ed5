"""Stored tables follow the catalogue: names, columns, types, custom event names."""

from __future__ import annotations

from rawexport.domain import catalog
from rawexport.store import EventStore, ensure_schema, known_custom_events, table_name
from rawexport.store.schema import EVENT_TABLES


def _columns(store: EventStore, table: catalog.Table) -> list[tuple[str, str]]:
    rows = store.rows(f"DESCRIBE TABLE {table_name(table)}")
    return [(str(r[0]), str(r[1])) for r in rows]


def test_every_event_table_has_app_time_and_catalogue_columns(event_store: EventStore) -> None:
    for table in EVENT_TABLES:
        columns = dict(_columns(event_store, table))
        assert columns.pop("app_id") == "String"
        assert columns.pop("time") == "Int64"
        assert list(columns)[-1] == "_batch" and columns.pop("_batch") == "UInt64"
        expected = [c.name for c in table.columns + table.extra if c.name not in ("time", "date")]
        assert list(columns) == expected, table.id
        for column in table.columns + table.extra:
            if column.name in columns and column.name not in ("devtodev ID", "event"):
                assert columns[column.name] == column.kind.clickhouse_type


def test_date_tables_keep_their_time_in_time(event_store: EventStore) -> None:
    for event_id in ("rp", "sbs"):
        names = [n for n, _ in _columns(event_store, catalog.STANDARD_EVENTS[event_id])]
        assert "date" not in names and "time" in names


def test_users_table_is_replacing_on_a_version(event_store: EventStore) -> None:
    names = [n for n, _ in _columns(event_store, catalog.USERS)]
    assert names[:2] == ["app_id", "devtodev ID"]
    assert names[2:-1] == list(catalog.USERS.column_names[1:])
    ((engine,),) = event_store.rows(
        "SELECT engine_full FROM system.tables"
        " WHERE database = currentDatabase() AND name = 'users'"
    )
    assert engine.startswith("ReplacingMergeTree(_version)")


def test_table_names_are_quoted_and_shared_by_views() -> None:
    assert table_name(catalog.STANDARD_EVENTS["gs"]) == "`ev_gs`"
    assert table_name(catalog.SBS_PAYMENTS) == table_name(catalog.STANDARD_EVENTS["sbs"])


def test_ensure_schema_is_idempotent(event_store: EventStore) -> None:
    ensure_schema(event_store)


def test_known_custom_events_are_those_the_app_received(
    event_store: EventStore, app_id: str
) -> None:
    custom = table_name(catalog.CUSTOM_TABLE)
    event_store.execute(
        f"INSERT INTO {custom} (app_id, time, `devtodev ID`, event) VALUES"
        " ({a:String}, 1, 1, 'shop'), ({a:String}, 2, 1, 'quest'), ('other', 1, 1, 'x')",
        {"a": app_id},
    )
    asked = ["shop", "quest", "x", "never", "shop"]
    assert known_custom_events(event_store, app_id, asked) == {"shop", "quest"}
    assert known_custom_events(event_store, app_id, []) == set()
