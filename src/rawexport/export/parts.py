"""Cutting a large file into parts by time, so that several cores make it at once.

Each part is the file's query over a time range; the ranges follow one another and together
cover every row, so the parts in order, each sorted by time, are the file sorted by time. The
bounds are quantiles of the rows' times: parts of about equal rows.
"""

from __future__ import annotations

import itertools
import math

from rawexport.export.params import QueryParams
from rawexport.store.base import EventStore

__all__ = ["PART_ROWS", "part_count", "part_sources"]

PART_ROWS = 400_000
"""Rows below which a part would not pay for its query's start and its own pass over the
table's index (about a few milliseconds), measured at 1 M to 10 M rows."""


def part_count(rows: int, producers: int) -> int:
    """How many parts a file of `rows` rows is made in, on `producers` threads."""
    return max(1, min(producers, math.ceil(rows / PART_ROWS)))


def part_sources(store: EventStore, source: str, params: QueryParams, parts: int) -> list[str]:
    """`FROM ... WHERE ...` of each of `parts` parts of the rows of `source`, in time order
    (fewer when the rows' times do not spread enough to cut; no query for one part)."""
    if parts < 2:
        return [source]
    fractions = ", ".join(str(n / parts) for n in range(1, parts))
    ((points,),) = store.rows(
        f"SELECT arrayMap(t -> toInt64(t), quantiles({fractions})(time)) {source}",
        params.values,
    )
    bounds = [params.add(b, "Int64") for b in sorted({int(p) for p in points})]
    if not bounds:
        return [source]
    ranges = [
        f"time < {bounds[0]}",
        *(f"time >= {low} AND time < {high}" for low, high in itertools.pairwise(bounds)),
        f"time >= {bounds[-1]}",
    ]
    return [f"{source} AND {condition}" for condition in ranges]
