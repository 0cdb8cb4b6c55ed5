"""Turning a `setjob` body into a JobSpec, with the published error codes.

Checks are split in two because setjob's order interleaves them with account checks: `check_fields`
(codes 4 and 5) runs before the app is looked up, `build_spec` (codes 7, 10, 8, 9) after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

from rawexport.domain.catalog import BASIC_EVENTS, USERS, standard_event
from rawexport.domain.errors import ApiError, Code
from rawexport.domain.jobspec import (
    FORMATS,
    Condition,
    EventSelection,
    Filter,
    Format,
    JobSpec,
)
from rawexport.webhooks.allowlist import WEBHOOKS_OFF, Allowlist, Refused

__all__ = [
    "MAX_FILTERS",
    "MAX_LIST_VALUES",
    "OPERATORS",
    "build_spec",
    "check_fields",
    "json_type",
    "storable",
]

OPERATORS = frozenset({"gt", "lt", "gte", "lte", "eq", "neq"})
MAX_FILTERS = 100
"""Parameters one event (or `users_filter`) may filter on: every one costs a condition."""
MAX_LIST_VALUES = 10_000
"""Values of one `eq`/`neq` list."""
_SECONDS_BEFORE = 10**11
"""UNIX seconds of the year 5138: a larger `start_date`/`end_date` is no date in seconds, and
one below `_MILLISECONDS_BEFORE` is most likely a date in milliseconds."""
_MILLISECONDS_BEFORE = 10**14
_LIST_OPERATORS = frozenset({"eq", "neq"})
BASIC_GROUP, CUSTOM_GROUP = "@basic_events", "@custom_events"
_GROUPS = frozenset({BASIC_GROUP, CUSTOM_GROUP})


def json_type(value: object) -> str:
    """The type name the published code-5 message uses."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def _invalid(field: str, received: str, expected: str) -> ApiError:
    """Code 5: `field` holds `received` where `expected` belongs."""
    return ApiError(Code.WRONG_TYPE, {"field": field, "received": received, "expected": expected})


def _wrong_type(field: str, value: object, expected: str) -> ApiError:
    return _invalid(field, json_type(value), expected)


def storable(text: str) -> bool:
    """Whether `text` can be an id at all: PostgreSQL text holds no U+0000, so no stored id has
    one, and looking it up would fail rather than find nothing."""
    return "\x00" not in text


def check_fields(
    body: Mapping[str, Any], *, max_events: int, webhook_hosts: Allowlist = WEBHOOKS_OFF
) -> None:
    """Codes 4 and 5: required fields present, every field of the expected JSON type, and
    every value a job will use within what the export can take; a `notify_url` must name a
    host of `webhook_hosts` (none: webhooks are off)."""
    for name in ("app_id", "start_date", "end_date"):
        if name not in body:
            raise ApiError(Code.FIELD_NOT_FOUND, {"field": name})
    if not isinstance(body["app_id"], str):
        raise _wrong_type("app_id", body["app_id"], "string")
    for name in ("start_date", "end_date"):
        _check_date(name, body[name])
    events = body.get("events", [])
    if not isinstance(events, list):
        raise _wrong_type("events", events, "array")
    if len(events) > max_events:
        raise _invalid("events", f"{len(events)} entries", f"at most {max_events}")
    for i, entry in enumerate(events):
        if isinstance(entry, str):
            continue
        if not isinstance(entry, dict):
            raise _wrong_type(f"events[{i}]", entry, "string or object")
        if not isinstance(entry.get("name"), str):
            raise _wrong_type(f"events[{i}].name", entry.get("name"), "string")
        if "alias" in entry and not isinstance(entry["alias"], str):
            raise _wrong_type(f"events[{i}].alias", entry["alias"], "string")
        _filters(entry.get("filters", {}), f"events[{i}].filters")
    if "format" in body and not isinstance(body["format"], str):
        raise _wrong_type("format", body["format"], "string")
    continue_from = body.get("continue_from")
    if continue_from is not None and not isinstance(continue_from, str):
        raise _wrong_type("continue_from", continue_from, "string")
    users_filter = body.get("users_filter", {})
    _filters(users_filter, "users_filter")
    for column in users_filter:
        if column not in USERS.column_names:
            raise _invalid(f"users_filter.{column}", "unknown column", "a users.csv column")
    if "notify_url" in body:
        _check_notify_url(body["notify_url"], webhook_hosts)


def _check_notify_url(url: object, webhook_hosts: Allowlist) -> None:
    if not isinstance(url, str):
        raise _wrong_type("notify_url", url, "string")
    try:
        webhook_hosts.target(url)
    except Refused as refused:
        raise _invalid("notify_url", refused.received, refused.expected) from None


def _check_date(name: str, value: object) -> None:
    """A finite number of UNIX seconds; a date in milliseconds is named as such, because it
    would otherwise be accepted as a window thousands of years ahead and export nothing."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(name, value, "number")
    if isinstance(value, float) and not math.isfinite(value):
        raise _invalid(name, f"a number that is not finite ({value})", "UNIX seconds")
    if _SECONDS_BEFORE <= value < _MILLISECONDS_BEFORE:
        raise _invalid(name, f"UNIX milliseconds ({value})", "UNIX seconds")
    if abs(value) >= _SECONDS_BEFORE:
        raise _invalid(name, "a number out of range for a date", "UNIX seconds")


def _finite(value: object) -> bool:
    """Whether a filter operand converts to a finite Float64, as the export compares numbers."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return -(2**1023) < value < 2**1023  # float() of a larger one overflows
    return True


def _filters(raw: object, where: str) -> tuple[Filter, ...]:
    if not isinstance(raw, dict):
        raise _wrong_type(where, raw, "object")
    if len(raw) > MAX_FILTERS:
        raise _invalid(where, f"{len(raw)} parameters", f"at most {MAX_FILTERS}")
    return tuple(_filter(name, ops, f"{where}.{name}") for name, ops in raw.items())


def _filter(name: str, ops: object, where: str) -> Filter:
    if not isinstance(ops, dict):
        raise _wrong_type(where, ops, "object")
    conditions = []
    for op, value in ops.items():
        if op not in OPERATORS:
            raise _invalid(
                f"{where}.{op}", "unknown operator", "one of " + ", ".join(sorted(OPERATORS))
            )
        scalars = value if isinstance(value, list) and op in _LIST_OPERATORS else [value]
        if len(scalars) > MAX_LIST_VALUES:
            raise _invalid(f"{where}.{op}", f"{len(scalars)} values", f"at most {MAX_LIST_VALUES}")
        for v in scalars:
            if v is None or isinstance(v, list | dict):
                expected = "number, string, boolean"
                if op in _LIST_OPERATORS:
                    expected += " or array"
                raise _wrong_type(f"{where}.{op}", value, expected)
            if not _finite(v):
                raise _invalid(f"{where}.{op}", "a number beyond Float64", "a finite number")
        conditions.append(Condition(op, value))
    return Filter(name, tuple(conditions))


def build_spec(
    body: Mapping[str, Any],
    *,
    now: float,
    retention_days: int,
    custom_events: Callable[[set[str]], set[str]],
) -> JobSpec:
    """Codes 7, 10, 8, 9, in that order.

    `custom_events(names)` tells which of `names` the app has received; it is called at most
    once, with every custom event name of the request, and only if there is one.
    """
    fmt = body.get("format", "csv")
    if fmt not in FORMATS:
        raise ApiError(Code.UNKNOWN_FORMAT, {"format": fmt})
    start, end = int(body["start_date"]), int(body["end_date"])
    oldest = now - retention_days * 86400
    if start < oldest or end < oldest or start >= end:
        raise ApiError(Code.BAD_INTERVAL, {"days": retention_days})

    raw_events: list[str | dict[str, Any]] = body.get("events") or [BASIC_GROUP, CUSTOM_GROUP]
    names = [cast(str, e if isinstance(e, str) else e["name"]) for e in raw_events]
    custom_names = {n for n in names if n not in _GROUPS and standard_event(n) is None}
    known: set[str] | None = None
    selections: list[EventSelection] = []
    all_custom = False
    for entry in raw_events:
        item = {"name": entry} if isinstance(entry, str) else entry
        name = cast(str, item["name"])
        if name == CUSTOM_GROUP:
            all_custom = True
            continue
        if name == BASIC_GROUP:
            selections.extend(EventSelection(e, False, e) for e in BASIC_EVENTS)
            continue
        filters = _filters(item.get("filters", {}), "filters")
        alias = item.get("alias")
        custom = standard_event(name) is None
        if custom:
            known = custom_events(custom_names) if known is None else known
            if name not in known:
                raise ApiError(Code.UNKNOWN_EVENT, {"event": name})
        elif filters:
            raise _invalid(f"{name}.filters", "object", "no filters on a standard event")
        selections.append(EventSelection(name, custom, alias or name, alias, filters))
    return JobSpec(
        app_id=cast(str, body["app_id"]),
        start_date=start,
        end_date=end,
        events=_unique(selections),
        all_custom=all_custom,
        format=cast(Format, fmt),
        users_filter=_filters(body.get("users_filter", {}), "users_filter"),
        notify_url=body.get("notify_url"),
        continue_from=body.get("continue_from"),
    )


def _unique(selections: list[EventSelection]) -> tuple[EventSelection, ...]:
    """Drop exact repeats (`tr` named twice); two different entries for one file are code 9."""
    by_stem: dict[str, EventSelection] = {}
    for s in selections:
        seen = by_stem.get(s.file_stem)
        if seen is None:
            by_stem[s.file_stem] = s
        elif seen != s or s.custom:
            raise ApiError(Code.DUPLICATE_ALIAS, {"alias": s.file_stem})
    return tuple(by_stem.values())
