"""The users table in SQL: `users_filter` and the rows of `users.csv`."""

from __future__ import annotations

from collections.abc import Sequence

from rawexport.domain.catalog import USERS
from rawexport.domain.jobspec import Filter
from rawexport.export.filters import column_subject, filter_sql
from rawexport.export.params import QueryParams
from rawexport.store.schema import table_name
from rawexport.store.sql import quote_identifier

__all__ = ["matching_users_sql", "users_query"]

_ID = quote_identifier("devtodev ID")


def matching_users_sql(filters: Sequence[Filter], app: str, params: QueryParams) -> str:
    """An event condition: the event's user has a card (as it is now) that meets `filters`."""
    conditions = [f"app_id = {app}"]
    for filter_ in filters:
        column = USERS.column(filter_.name)
        if column is None:
            raise ValueError(f"users_filter: {filter_.name!r} is not a users.csv column")
        conditions.append(filter_sql(filter_, column_subject(column), params))
    return (
        f"{_ID} IN (SELECT {_ID} FROM {table_name(USERS)} FINAL WHERE {' AND '.join(conditions)})"
    )


def users_query(sources: Sequence[str], app: str) -> str:
    """One row per user with a row in any of `sources` (`FROM ... WHERE ...` of each file).

    A user without a card still gets a row, with only the ID filled (the card columns are
    nullable, so the outer join leaves them null).
    """
    columns = ", ".join(quote_identifier(c) for c in USERS.column_names)
    return (
        f"SELECT {columns} FROM ({_exported_ids(sources)}) AS exported"
        f" LEFT JOIN (SELECT {columns} FROM {table_name(USERS)} FINAL WHERE app_id = {app})"
        f" AS card USING ({_ID}) ORDER BY {_ID}"
    )


def _exported_ids(sources: Sequence[str]) -> str:
    # Several files may share a source (one event under several aliases): each is read once.
    unique = dict.fromkeys(sources)
    union = " UNION ALL ".join(f"SELECT {_ID} {source}" for source in unique)
    return f"SELECT DISTINCT {_ID} FROM ({union})"
