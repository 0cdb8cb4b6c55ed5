"""The type of each column of a report file, from the event catalogue, so readers need not guess.

Left to guess, a reader makes `os_version` 10.3 a float and `step` a float as soon as a cell is
empty. The catalogue knows every published column; it is plain Python, so the client install
has it. Columns it cannot know (custom event parameters) are left to the reader.
"""

from __future__ import annotations

from collections.abc import Iterable

from rawexport.domain import catalog
from rawexport.domain.catalog import Kind

__all__ = ["column_kinds"]

# Report columns that are not catalogue columns of their own, by the table they come from.
_EXTRA_COLUMNS: dict[str, Kind] = {"ip": Kind.FLOAT}  # one amount per virtual currency


def column_kinds(event: str, columns: Iterable[str] = ()) -> dict[str, Kind]:
    """The known kinds of `columns` (default: the published ones) of a file of `event`: an
    event id, `users`, or a custom event name."""
    table = catalog.USERS if event == catalog.USERS.id else catalog.standard_event(event)
    known = catalog.CUSTOM_TABLE if table is None else table
    published = {c.name: c.kind for c in known.columns}
    kinds: dict[str, Kind] = {}
    for name in columns or published:
        if name in published:
            kinds[name] = published[name]
        elif known.id in _EXTRA_COLUMNS:
            kinds[name] = _EXTRA_COLUMNS[known.id]
    return kinds
