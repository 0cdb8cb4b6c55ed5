"""Listings of the operating commands: a table for people, one JSON object for scripts.

Both come from the same rows, so `--json` never lacks what the table shows. Values are shown as
people read them: nothing for a missing value (never `None`), yes/no, sizes in kB/MB, times in
UTC, durations in s/min/h.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.filesize import decimal
from rich.table import Table

__all__ = ["Cell", "duration", "emit_rows", "field", "moment", "plain", "size"]

_ID_LENGTH = 16
_PIPED_WIDTH = 200

Cell = Callable[[Mapping[str, Any]], str]
"""The text of one table cell, from the row."""


def field(name: str, show: Callable[[Any], str] | None = None) -> Cell:
    """The cell of one field, shown by `show` (default: `plain`)."""
    shown = show or plain
    return lambda row: shown(row.get(name))


def emit_rows(
    as_json: bool, key: str, rows: Sequence[Mapping[str, Any]], columns: Mapping[str, Cell]
) -> None:
    """`{key: rows}` with `--json`, else a table with a column per heading of `columns`."""
    if as_json:
        click.echo(json.dumps({key: list(rows)}))
        return
    if not rows:
        Console(stderr=True).print(f"no {key}", highlight=False)
        return
    cells = [[cell(row) for cell in columns.values()] for row in rows]
    table = Table(box=box.SIMPLE_HEAD)
    for n, heading in enumerate(columns):
        texts = [row[n] for row in cells]
        # Ids (and e-mails) are there to be copied: never wrapped or cut short. Other columns
        # give way on a narrow terminal; --json has everything.
        an_id = all(len(text) >= _ID_LENGTH and " " not in text for text in texts)
        width = max(map(len, texts)) if an_id else None
        table.add_column(heading, no_wrap=an_id, min_width=width)
    for row in cells:
        table.add_row(*row)
    # Piped into a file or a pager, the table is not squeezed into the 80 columns rich assumes.
    console = Console()
    if not console.is_terminal:
        console = Console(width=_PIPED_WIDTH)
    console.print(table)


def plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def moment(unix: float | None) -> str:
    """UTC, to the second; one zone for every operator of a shared server."""
    if unix is None:
        return ""
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def size(octets: int | None) -> str:
    return "" if octets is None else decimal(octets)
