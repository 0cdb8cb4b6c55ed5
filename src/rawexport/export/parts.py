"""Cutting a large file into parts by time, so that several cores make it at once.

Each part is the file's query over a time range; the ranges follow one another and together
cover every row, so the parts in order, each sorted by time, are the file sorted by time. The
bounds are quantiles of the rows' times, so the parts have about equal rows. They are read from
the table's primary index, a mark a granule, without reading a row: 2-4 ms against the 17 ms
of the rows' own quantiles, for 1 M rows. Where the index has too few marks to cut so finely,
or cannot be read (ClickHouse before `mergeTreeIndex`), the rows' quantiles are taken.
"""

from __future__ import annotations

import contextlib
import itertools
import math

from rawexport.export.params import QueryParams
from rawexport.store.base import EventStore, StoreError

__all__ = ["MARKS_PER_PART", "PART_ROWS", "part_count", "part_sources"]

PART_ROWS = 400_000
"""Rows below which a part would not pay for its query's start and its own pass over the
table's index (about a few milliseconds), measured at 1 M to 10 M rows."""

MARKS_PER_PART = 8
"""Marks of the primary index a part spans at least for its bounds to be taken from the index:
a bound found there is off by up to a granule (8,192 rows), here an eighth of a part."""


def part_count(rows: int, producers: int) -> int:
    """How many parts a file of `rows` rows is made in, on `producers` threads."""
    return max(1, min(producers, math.ceil(rows / PART_ROWS)))


def part_sources(
    store: EventStore, source: str, marks: str, params: QueryParams, parts: int
) -> list[str]:
    """`FROM ... WHERE ...` of each of `parts` parts of the rows of `source`, in time order
    (fewer when the rows' times do not spread enough to cut; no query for one part). `marks`
    selects the primary index's marks of those rows (`plan.CountedFile.marks`)."""
    if parts < 2:
        return [source]
    fractions = ", ".join(str(n / parts) for n in range(1, parts))
    points = _index_points(store, marks, params, fractions, parts)
    if points is None:
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


def _index_points(
    store: EventStore, marks: str, params: QueryParams, fractions: str, parts: int
) -> list[int] | None:
    """The times at `fractions` of the rows by the primary index, each granule weighing its
    rows at the time of its first; None when the index cannot cut into `parts` that finely."""
    weighted = f"quantilesExactWeighted({fractions})(time, rows_in_granule)"
    with contextlib.suppress(StoreError):
        ((granules, points),) = store.rows(
            f"SELECT count(), arrayMap(t -> toInt64(t), {weighted}) {marks}", params.values
        )
        if granules >= parts * MARKS_PER_PART:
            return [int(p) for p in points]
    return None
