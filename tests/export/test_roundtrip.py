"""Every table round-trips: what is loaded comes out of the report in the same column, exactly."""

from __future__ import annotations

from typing import Any

from rawexport.domain.catalog import BASIC_EVENTS, STANDARD_EVENTS, USERS, Column, Kind, Table
from tests.export.conftest import Export, Load, at, custom, standard

_CURRENCIES = {"Gold": 10, "Coins": 90.5}
_CURRENCY_TEXT = "Coins: 90.5, Gold: 10"


def _value(column: Column, n: int) -> Any:
    """A distinct value of the column's kind, with text that CSV must quote."""
    return {
        Kind.INT: 1000 + n,
        Kind.FLOAT: n + 0.25,
        Kind.BOOL: n % 2 == 0,
        Kind.STRING: f'{column.name}, "quoted"\nline {n}',
        Kind.CURRENCY_MAP: _CURRENCIES,
    }[column.kind]


def _csv_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _CURRENCY_TEXT
    return str(value)


def _row(table: Table, uid: int) -> dict[str, Any]:
    row: dict[str, Any] = {"event": table.id}
    for n, column in enumerate(table.columns):
        row[column.name] = _value(column, n)
    row["devtodev ID"] = uid
    row[table.time_column or "time"] = at(uid)
    if table.id == "ip":
        row["currencies"] = _CURRENCIES
    return row


def test_every_standard_table_and_the_users_file_round_trip(load: Load, export: Export) -> None:
    rows = {event: _row(STANDARD_EVENTS[event], uid) for uid, event in enumerate(BASIC_EVENTS, 1)}
    cards = [
        {c.name: _value(c, n) for n, c in enumerate(USERS.columns)} | {"devtodev ID": uid}
        for uid in range(1, len(BASIC_EVENTS) + 1)
    ]
    load(cards, users=True)
    load(list(rows.values()))
    out = export(*(standard(e) for e in BASIC_EVENTS))
    for event, loaded in rows.items():
        (record,) = out.records(f"{event}.csv")
        expected = {k: _csv_text(v) for k, v in loaded.items() if k in record}
        if event == "ip":
            expected |= {"Coins": "90.5", "Gold": "10"}
        assert record == expected, event
    users = out.records("users.csv")
    assert users == [{k: _csv_text(v) for k, v in card.items()} for card in cards]


def test_custom_event_parameters_round_trip(load: Load, export: Export) -> None:
    params = {"stars": 3, "ratio": 0.1, "mode": 'a "b", c', "won": True}
    load(
        [
            {
                "event": "levelComplete",
                "devtodev ID": 5,
                "time": at(9),
                "level": 4,
                "isTester": False,
                "cheat": True,
                "install_date": 1_699_000_000,
                "params": params,
            }
        ]
    )
    (record,) = export(custom("levelComplete")).records("levelComplete.csv")
    assert record == {
        "devtodev ID": "5",
        "time": str(at(9)),
        "level": "4",
        "isTester": "false",
        "cheat": "true",
        "install_date": "1699000000",
        "mode": 'a "b", c',
        "ratio": "0.1",
        "stars": "3",
        "won": "true",
    }
