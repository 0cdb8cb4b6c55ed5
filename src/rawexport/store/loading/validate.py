"""Validation of loaded objects (docs/loading.md): events and user cards, as they will be staged.

Valid objects are staged as they are, keyed by the published column names; only custom event
parameters change (to text). Problems raise `ValueError` with a message meant for the person
who wrote the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

from rawexport.domain import catalog
from rawexport.domain.catalog import Kind

__all__ = [
    "Normalised",
    "column_kind",
    "loadable_columns",
    "normalise_card",
    "normalise_event",
    "seconds_not_milliseconds",
    "table_of",
    "time_key",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ID = "devtodev ID"
_TIME_NEEDED = {"rp": "'date'", "sbs": "'date'", "rg": "'time' or 'install_date'"}
_SECONDS_FROM, _SECONDS_UNTIL = 10**9, 10**11
"""An event time in this range is a date of 2001 to 5138 in UNIX seconds; read as the UNIX
milliseconds it should be, an event of 1970 to 1973. It is refused as the mistake it always is."""


def _is_number(v: object) -> bool:
    return type(v) is float or (type(v) is int and _INT64_MIN <= v <= _INT64_MAX)


def _is_currency_map(v: dict[str, Any]) -> bool:
    return all(_is_number(amount) for amount in v.values())


def _is_param_map(v: dict[str, Any]) -> bool:
    return all(p is None or type(p) in (str, bool) or _is_number(p) for p in v.values())


# The JSON types each kind accepts (null always); integers and objects then get a closer look.
# Type sets rather than per-value functions: loading checks millions of values.
_NULL = type(None)
_TYPES: dict[Kind, frozenset[type]] = {
    Kind.INT: frozenset({int, _NULL}),
    Kind.FLOAT: frozenset({int, float, _NULL}),
    Kind.BOOL: frozenset({bool, _NULL}),
    Kind.STRING: frozenset({str, _NULL}),
    Kind.CURRENCY_MAP: frozenset({dict, _NULL}),
    Kind.PARAM_MAP: frozenset({dict, _NULL}),
}
_MAP_CHECKS: dict[Kind, Callable[[dict[str, Any]], bool]] = {
    Kind.CURRENCY_MAP: _is_currency_map,
    Kind.PARAM_MAP: _is_param_map,
}
_EXPECTED = {
    Kind.INT: "an integer",
    Kind.FLOAT: "a number",
    Kind.BOOL: "true or false",
    Kind.STRING: "a string",
    Kind.CURRENCY_MAP: "an object of {currency: number}",
    Kind.PARAM_MAP: "an object of {name: string, number or boolean}",
}


def _loadable(table: catalog.Table) -> dict[str, Kind]:
    fields = {"event": Kind.STRING}
    fields.update((c.name, c.kind) for c in table.columns + table.extra)
    if table.time_column is None:
        fields["time"] = Kind.INT  # `uu` and `rg` take a time to fall in an interval
    return fields


_EVENT_FIELDS = {
    t.id: _loadable(t) for t in (*catalog.STANDARD_EVENTS.values(), catalog.CUSTOM_TABLE)
}
_CARD_FIELDS = {c.name: c.kind for c in catalog.USERS.columns}
_NOT_LOADABLE = frozenset({catalog.SBS_PAYMENTS.id})


class Normalised(NamedTuple):
    event: str
    """The event id or custom event name."""
    table: catalog.Table
    rewritten: bool
    """Whether the object changed (custom parameters become text) or is still as it was read."""


def loadable_columns(table: catalog.Table) -> dict[str, Kind]:
    """The keys an event loaded into `table` may have, with their kinds."""
    return _EVENT_FIELDS[table.id]


def table_of(event: object) -> catalog.Table:
    """The stored table of an `event` value: a standard one, or the custom events table."""
    standard = catalog.STANDARD_EVENTS.get(event) if isinstance(event, str) else None
    return standard or catalog.CUSTOM_TABLE


def column_kind(table: catalog.Table, key: str) -> Kind | None:
    """How `key` of an object loaded into `table` is typed, or None for an unknown key."""
    fields = _CARD_FIELDS if table is catalog.USERS else _EVENT_FIELDS[table.id]
    return fields.get(key)


# Objects loaded into one table nearly always have the same keys in the same order: the accepted
# types of a key sequence are worked out once, so that a row costs one type test per value.
_SHAPES: dict[tuple[str, tuple[str, ...]], tuple[frozenset[type], ...]] = {}
_MAX_SHAPES = 4096


def _shape(
    table_id: str, keys: tuple[str, ...], fields: dict[str, Kind], what: str
) -> tuple[frozenset[type], ...]:
    for key in keys:
        if key not in fields:
            raise ValueError(f"unknown column {key!r} for {what}")
    if len(_SHAPES) >= _MAX_SHAPES:
        _SHAPES.clear()
    shape = _SHAPES[table_id, keys] = tuple(_TYPES[fields[key]] for key in keys)
    return shape


def _check_fields(obj: dict[str, Any], table_id: str, fields: dict[str, Kind], what: str) -> None:
    keys = tuple(obj)
    shape = _SHAPES.get((table_id, keys)) or _shape(table_id, keys, fields, what)
    for (key, value), types in zip(obj.items(), shape, strict=True):
        value_type = type(value)
        if (
            value_type not in types
            or (value_type is int and not _INT64_MIN <= value <= _INT64_MAX)
            or (value_type is dict and not _MAP_CHECKS[fields[key]](value))
        ):
            shown = json.dumps(value, default=str)[:80]
            raise ValueError(f"{key!r} must be {_EXPECTED[fields[key]]}, not {shown}")
    if obj.get(_ID) is None:
        raise ValueError(f"{_ID!r} is required")


def _param_text(value: str | float | bool) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def time_key(table: catalog.Table) -> str:
    """The key that holds an event's time (UNIX ms) when loaded into `table`."""
    return "date" if table.time_column == "date" else "time"


def seconds_not_milliseconds(when: object) -> bool:
    """Whether an event time is, by its size, UNIX seconds where milliseconds belong."""
    return type(when) is int and _SECONDS_FROM <= when < _SECONDS_UNTIL


def normalise_event(obj: dict[str, Any]) -> Normalised:
    """Check one loaded event; custom parameter values are turned into text in place."""
    event = obj.get("event")
    if type(event) is not str or not event:
        raise ValueError("'event' must be a standard event id or a custom event name")
    if event in _NOT_LOADABLE or event[0] == "@":
        raise ValueError(f"{event!r} cannot be loaded: it names a selection of events")
    table = table_of(event)
    _check_fields(obj, table.id, _EVENT_FIELDS[table.id], f"{table.id} event")
    key = time_key(table)
    when = obj.get(key)
    if when is None and (table.id != "rg" or obj.get("install_date") is None):
        raise ValueError(f"{_TIME_NEEDED.get(table.id, repr('time'))} (UNIX ms) is required")
    if seconds_not_milliseconds(when):
        raise ValueError(
            f"{key!r} is {when}, UNIX seconds by its size (in milliseconds an event of"
            " 1970): UNIX milliseconds expected"
        )
    params = obj.get("params")
    if params:
        obj["params"] = {k: _param_text(v) for k, v in params.items() if v is not None}
    return Normalised(event, table, bool(params))


def normalise_card(obj: dict[str, Any]) -> dict[str, Any]:
    """The row of one loaded user card."""
    _check_fields(obj, catalog.USERS.id, _CARD_FIELDS, "a user card")
    return obj
