"""Accepting events of a shape already validated: the per-row work of loading JSON lines.

The shape of an event is its `event` value, its keys in order and the JSON type of each value.
Everything `normalise_event` checks follows from the shape, except integers beyond 64 bits and
the contents of map values; so once one event of a shape proved valid, another event of that
shape needs only those two looked at. Anything else is left to `normalise_event`, which gives
the message when something is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rawexport.domain.catalog import Kind
from rawexport.store.loading.validate import (
    Normalised,
    column_kind,
    seconds_not_milliseconds,
    time_key,
)

__all__ = ["Shape", "ValidShape", "may_hold_wide_integer", "remember", "shape_of", "valid_shape"]

_DIGITS_AS_ZEROS = bytes.maketrans(b"0123456789", b"0" * 10)
_WIDE_DIGITS = b"0" * 19


def may_hold_wide_integer(text: bytes) -> bool:
    """Whether `text` may hold an integer beyond 64 bits: one with 19 digits or more. Text
    without such a run of digits needs no range check (long digit strings and fractions merely
    send their events to the full check). A byte translation finds runs far faster than a
    regular expression."""
    return _WIDE_DIGITS in text.translate(_DIGITS_AS_ZEROS)


_NUMBERS = frozenset({int, float})
_PARAM_VALUES = frozenset({str, int, float, bool, type(None)})
_TEXT = frozenset({str})
_MAX_SHAPES = 4096

Shape = tuple[str, tuple[str, ...], tuple[type, ...]]


_NO_SHAPE: Shape = ("", (), ())
"""The shape of events whose `event` is not text (and maybe not hashable): never valid."""


def shape_of(obj: dict[str, Any]) -> Shape:
    event = obj.get("event")
    if type(event) is not str:
        return _NO_SHAPE
    return event, tuple(obj), tuple(map(type, obj.values()))


@dataclass(frozen=True, slots=True)
class ValidShape:
    """What an event of a valid shape needs: where it goes and which maps to look into."""

    event: str
    table_id: str
    currency_maps: tuple[str, ...]
    params: bool
    time_key: str | None
    """The key of the event's time, if the shape has one: its unit is a value, not a type."""

    def accepts(self, obj: dict[str, Any]) -> bool:
        """Whether the maps of `obj` hold what they should (numbers; parameter values) and its
        time is in milliseconds."""
        if self.time_key is not None and seconds_not_milliseconds(obj[self.time_key]):
            return False
        for key in self.currency_maps:
            if not set(map(type, obj[key].values())) <= _NUMBERS:
                return False
        return not self.params or set(map(type, obj["params"].values())) <= _PARAM_VALUES

    def needs_rewriting(self, obj: dict[str, Any]) -> bool:
        """Whether parameters of `obj` must become text (done by `normalise_event`)."""
        return self.params and not set(map(type, obj["params"].values())) <= _TEXT


_VALID: dict[Shape, ValidShape] = {}


def valid_shape(shape: Shape) -> ValidShape | None:
    """The shape if an event of it was validated before, else None."""
    return _VALID.get(shape)


def remember(shape: Shape, normalised: Normalised) -> ValidShape:
    """Remember `shape` as valid, having seen an event of it pass as `normalised`."""
    _, keys, types = shape
    event, table, _ = normalised
    maps = tuple(
        key
        for key, value_type in zip(keys, types, strict=True)
        if value_type is dict and column_kind(table, key) is Kind.CURRENCY_MAP
    )
    params = "params" in keys and types[keys.index("params")] is dict
    if len(_VALID) >= _MAX_SHAPES:
        _VALID.clear()  # a file with ever new shapes (custom event names) stays bounded
    timed = time_key(table) if time_key(table) in keys else None
    valid = _VALID[shape] = ValidShape(event, table.id, maps, params, timed)
    return valid
