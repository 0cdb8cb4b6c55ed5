"""Request filters as parameterised ClickHouse conditions (`filters`, `users_filter`).

A filter reads one value through a `Subject`: a custom event parameter (stored as its JSON text
in the `params` map) or a typed column of the users table. A number operand compares the value
as a number, any other operand compares it as text (booleans as `true`/`false`, which is also
how both places store them). A value that is missing, null or not a number where a number is
needed makes the comparison null, and null never matches: not even `neq` selects events that
lack the parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rawexport.domain.catalog import Column, Kind
from rawexport.domain.jobspec import Condition, Filter, Scalar
from rawexport.export.params import QueryParams
from rawexport.store.sql import quote_identifier

__all__ = ["Subject", "column_subject", "filter_sql", "param_subject"]

_COMPARISONS = {"gt": ">", "lt": "<", "gte": ">=", "lte": "<=", "eq": "=", "neq": "!="}


@dataclass(frozen=True)
class Subject:
    """SQL reading one filtered value: whether it is present, as text, and as a number."""

    present: str
    text: str
    number: str


def param_subject(name: str, params: QueryParams) -> Subject:
    """The custom event parameter `name` in the `params` map."""
    key = params.add(name, "String")
    value = f"params[{key}]"
    return Subject(f"mapContains(params, {key})", value, f"toFloat64OrNull({value})")


def column_subject(column: Column) -> Subject:
    """A typed, nullable column, such as a users.csv column of the users table."""
    name = quote_identifier(column.name)
    if column.kind in (Kind.INT, Kind.FLOAT):
        number = f"toFloat64({name})"
    else:
        number = f"toFloat64OrNull(toString({name}))"
    return Subject(f"isNotNull({name})", f"toString({name})", number)


def filter_sql(filter_: Filter, subject: Subject, params: QueryParams) -> str:
    """The condition of one filter: the value is present and meets every operator."""
    if not filter_.conditions:
        return f"({subject.present} AND {subject.text} != '')"
    parts = [subject.present, *(_condition(subject, c, params) for c in filter_.conditions)]
    return "(" + " AND ".join(parts) + ")"


def _condition(subject: Subject, condition: Condition, params: QueryParams) -> str:
    if isinstance(condition.value, list):
        return _membership(subject, condition.op == "eq", condition.value, params)
    op = _COMPARISONS[condition.op]
    if _is_number(condition.value):
        return f"{subject.number} {op} {params.add(float(condition.value), 'Float64')}"
    return f"{subject.text} {op} {params.add(_as_text(condition.value), 'String')}"


def _membership(
    subject: Subject, inside: bool, values: Sequence[Scalar], params: QueryParams
) -> str:
    """`eq` with a list: equal to one of them; `neq` with a list: equal to none of them."""
    numbers = [float(v) for v in values if _is_number(v)]
    texts = [_as_text(v) for v in values if not _is_number(v)]
    tests = []
    if numbers:
        tests.append((subject.number, params.add(numbers, "Array(Float64)")))
    if texts:
        tests.append((subject.text, params.add(texts, "Array(String)")))
    if not tests:
        return "0" if inside else "1"
    if inside:
        return "(" + " OR ".join(f"{value} IN {array}" for value, array in tests) + ")"
    return "(" + " AND ".join(f"{value} NOT IN {array}" for value, array in tests) + ")"


def _is_number(value: Scalar) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
