"""Validating events from a byte range of a JSON-lines file into chunk files.

The range starts at a line start and ends after a line end (or at the end of the file), so
that ranges of one file can be validated apart, in other processes. Line numbers count from
the start of the range; lines are read a block at a time, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rawexport.store.loading.chunks import ChunkFiles
from rawexport.store.loading.shapes import (
    Shape,
    ValidShape,
    may_hold_wide_integer,
    remember,
    shape_of,
    valid_shape,
)
from rawexport.store.loading.validate import normalise_event

__all__ = ["MAX_REPORTED_ERRORS", "Validated", "validate_lines"]

MAX_REPORTED_ERRORS = 100
"""Reading stops after this many bad lines: the file is refused either way."""
_BLOCK_BYTES = 4 << 20


@dataclass
class Validated:
    """What validating a range found; `chunks` holds (table id, path) of the chunk files not
    handed on while reading."""

    lines: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    chunks: list[tuple[str, str]] = field(default_factory=list)

    def keep_chunk(self, table_id: str, path: Path) -> None:
        self.chunks.append((table_id, str(path)))


def _blocks(path: str, start: int, end: int) -> Iterator[tuple[list[bytes], bool]]:
    """The lines of the range a block at a time, each block with whether it may hold an
    integer too wide for 64 bits."""
    with open(path, "rb") as source:
        source.seek(start)
        left = end - start
        rest = b""
        while left > 0:
            block = source.read(min(_BLOCK_BYTES, left))
            if not block:
                break
            left -= len(block)
            block = rest + block  # a line cut by the end of the block before
            lines = block.split(b"\n")
            rest = lines.pop()
            yield lines, may_hold_wide_integer(block)
        if rest:
            yield [rest], may_hold_wide_integer(rest)


def _checked(
    obj: dict[str, Any], shape: Shape, known: ValidShape | None
) -> tuple[ValidShape, bytes | None]:
    """Validate `obj` in full (ValueError if it is not valid): its shape, and the row to
    store if it is not the line as read."""
    normalised = normalise_event(obj)
    valid = known or remember(shape, normalised)
    return valid, orjson.dumps(obj) if normalised.rewritten else None


def validate_lines(
    path: str,
    start: int,
    end: int,
    workdir: str,
    prefix: str,
    full: Callable[[str, Path], None] | None = None,
) -> Validated:
    """Validate the events of bytes `start` to `end` of `path`, writing valid rows to chunk
    files `<workdir>/<prefix>*.jsonl`, handed to `full` when given, else returned."""
    found = Validated()
    chunks = ChunkFiles(Path(workdir), prefix, full or found.keep_chunk)
    counts, errors, write = found.counts, found.errors, chunks.write
    number = 0
    try:
        for lines, wide in _blocks(path, start, end):
            for line in lines:
                number += 1
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as e:
                    if line.strip():  # blank lines are allowed
                        errors.append((number, f"not valid JSON: {e}"))
                    continue
                if type(obj) is not dict:
                    errors.append((number, "not a JSON object"))
                    continue
                shape = shape_of(obj)
                valid = valid_shape(shape)
                if (
                    valid is None
                    or (wide and may_hold_wide_integer(line))
                    or not valid.accepts(obj)
                    or valid.needs_rewriting(obj)
                ):
                    try:
                        valid, rewritten = _checked(obj, shape, valid)
                    except ValueError as e:
                        errors.append((number, str(e)))
                        continue
                    write(valid.table_id, rewritten or line)
                else:
                    write(valid.table_id, line)
                counts[valid.event] = counts.get(valid.event, 0) + 1
            if len(errors) >= MAX_REPORTED_ERRORS:
                del errors[MAX_REPORTED_ERRORS:]
                break
        if not errors:
            chunks.finish()
    finally:
        chunks.close()
    found.lines = number
    return found
