"""What loading a file reports: rows stored per event, or the lines that were not valid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["LoadError", "LoadReport"]


class LoadError(Exception):
    """A line that is not valid; `more` holds the file's other bad lines, in order."""

    def __init__(self, file: str, line: int, message: str, more: Sequence[LoadError] = ()) -> None:
        super().__init__(file, line, message)
        self.file = file
        self.line = line
        self.message = message
        self.more = tuple(more)

    def __str__(self) -> str:
        return "\n".join(f"{e.file}:{e.line}: {e.message}" for e in (self, *self.more))


@dataclass
class LoadReport:
    """Rows stored per event id or custom event name (`users` for cards), and their total."""

    rows: dict[str, int] = field(default_factory=dict)
    already_loaded_on: str | None = None
    """When the batch was loaded before (then nothing was loaded now); None otherwise."""

    @property
    def total(self) -> int:
        return sum(self.rows.values())
