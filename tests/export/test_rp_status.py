"""rp `status` is a boolean ("is transaction valid or not"), and older stores are converted."""

from __future__ import annotations

from rawexport.domain import catalog
from rawexport.store import EventStore, ensure_schema, table_name

from .conftest import Export, Load, at, standard

RP = table_name(catalog.STANDARD_EVENTS["rp"])


def test_status_loads_and_exports_as_a_boolean(load: Load, export: Export) -> None:
    load(
        [
            {"event": "rp", "devtodev ID": 1, "date": at(1), "status": True},
            {"event": "rp", "devtodev ID": 2, "date": at(2), "status": False},
            {"event": "rp", "devtodev ID": 3, "date": at(3)},
        ]
    )
    rows = export(standard("rp")).records("rp.csv")
    assert [r["status"] for r in rows] == ["true", "false", ""]


def test_a_store_with_text_status_is_converted_and_keeps_its_rows(
    event_store: EventStore, app_id: str, export: Export
) -> None:
    # The table as an earlier version made it; other tests' rows come back as 'true'/'false'.
    event_store.execute(f"ALTER TABLE {RP} MODIFY COLUMN status Nullable(String)")
    old = ["'Success'", "'failed'", "'1'", "'0'", "' Valid'", "'what'", "NULL"]
    event_store.execute(
        f"INSERT INTO {RP} (app_id, time, `devtodev ID`, status) VALUES "
        + ", ".join(f"({{a:String}}, {at(n)}, {n}, {text})" for n, text in enumerate(old)),
        {"a": app_id},
    )
    event_store.execute(  # a decoy of another app, converted too, not exported
        f"INSERT INTO {RP} (app_id, time, `devtodev ID`, status)"
        f" VALUES ('other', {at(1)}, 9, 'true')"
    )
    ensure_schema(event_store)
    ((stored,),) = event_store.rows(f"SELECT toTypeName(status) FROM {RP} LIMIT 1")
    assert stored == "Nullable(Bool)"
    rows = export(standard("rp")).records("rp.csv")
    assert [(r["devtodev ID"], r["status"]) for r in rows] == [
        ("0", "true"),
        ("1", "false"),
        ("2", "true"),
        ("3", "false"),
        ("4", "true"),
        ("5", ""),
        ("6", ""),
    ]
