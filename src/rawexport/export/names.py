"""Names in the report: safe, unique ZIP entry names and unique column names."""

from __future__ import annotations

import re

__all__ = ["FORMAT_EXTENSIONS", "MANIFEST_NAME", "safe_file_name", "unique_name"]

MANIFEST_NAME = "manifest.json"
FORMAT_EXTENSIONS: dict[str, str] = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Keeps an unpacked file within the 255-byte name limit of common file systems.
_MAX_STEM = 120


def unique_name(
    name: str, taken: set[str], *, extension: str = "", ignore_case: bool = False
) -> str:
    """`name + extension`, or the first of `name_2 + extension`, `name_3`... not in `taken`.

    The result is added to `taken`; with `ignore_case`, `taken` holds lower-cased names.
    """

    def key(candidate: str) -> str:
        return candidate.lower() if ignore_case else candidate

    candidate, n = name + extension, 1
    while key(candidate) in taken:
        n += 1
        candidate = f"{name}_{n}{extension}"
    taken.add(key(candidate))
    return candidate


def safe_file_name(stem: str, extension: str, taken: set[str]) -> str:
    """A ZIP entry name for an event id or alias: no path separators, unique ignoring case.

    Case is ignored because `lu.csv` and `LU.csv` would overwrite each other when unpacked on
    macOS or Windows; `taken` holds the lower-cased names already used.
    """
    safe = _UNSAFE.sub("_", stem)[:_MAX_STEM] or "_"
    return unique_name(safe, taken, extension=extension, ignore_case=True)
