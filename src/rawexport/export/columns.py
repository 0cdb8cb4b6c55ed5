"""The SELECT list of one report file: its columns in report order.

Stored columns go out as they are, except that `rp`/`sbs` store their `date` in `time`, the
`lu`/`pe` currency maps become text like `Coins: 90, Gold: 10`, and a spread map (`ip`
currencies, custom event parameters) becomes one column per key found in the exported rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from rawexport.domain.catalog import Column, Kind, Table
from rawexport.export.names import unique_name
from rawexport.export.params import QueryParams
from rawexport.store.sql import quote_identifier

__all__ = ["select_list", "spread_column"]

_SPREAD_KINDS = (Kind.CURRENCY_MAP, Kind.PARAM_MAP)


def spread_column(table: Table) -> Column | None:
    """The stored map of `table` whose keys become columns of their own, if it has one."""
    return next((c for c in table.extra if c.kind in _SPREAD_KINDS), None)


def select_list(
    table: Table, keys: Sequence[str], params: QueryParams
) -> tuple[tuple[str, ...], str]:
    """Column names and the SELECT expressions of a file of `table`.

    `keys` are the keys of the spread map in the exported rows, in column order. A key equal to
    an earlier column name gets a `_2` suffix, so every column of a file has its own name.
    """
    names = list(table.column_names)
    expressions = [_report_expression(c) for c in table.columns]
    spread = spread_column(table)
    if spread is not None:
        taken = set(names)
        for key in keys:
            name = unique_name(key, taken)
            names.append(name)
            expressions.append(_spread_expression(spread, key, name, params))
    return tuple(names), ", ".join(expressions)


def _report_expression(column: Column) -> str:
    name = quote_identifier(column.name)
    if column.name == "date":
        return f"time AS {name}"
    if column.kind is Kind.CURRENCY_MAP:
        return f"{_currency_text(name)} AS {name}"
    return name


def _currency_text(stored_map: str) -> str:
    """`Coins: 90, Gold: 10`, sorted by currency name; null (an empty field) for no currency."""
    ordered = f"mapSort({stored_map})"
    pairs = (
        f"arrayMap((k, v) -> concat(k, ': ', toString(v)),"
        f" mapKeys({ordered}), mapValues({ordered}))"
    )
    return f"nullIf(arrayStringConcat({pairs}, ', '), '')"


def _spread_expression(spread: Column, key: str, name: str, params: QueryParams) -> str:
    stored_map = quote_identifier(spread.name)
    placeholder = params.add(key, "String")
    value = f"if(mapContains({stored_map}, {placeholder}), {stored_map}[{placeholder}], NULL)"
    return f"{value} AS {quote_identifier(name)}"
