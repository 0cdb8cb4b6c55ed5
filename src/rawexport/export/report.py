"""What a finished export holds: one `FileStat` per file, and `manifest.json`."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from rawexport.domain.jobspec import Filter, JobSpec, Operand

__all__ = ["ExportResult", "FileStat", "manifest_json"]


@dataclass(frozen=True)
class FileStat:
    """One file of the report. `event` is the event id or custom name (`users` for the cards)."""

    name: str
    event: str
    alias: str | None
    rows: int
    columns: tuple[str, ...]
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class ExportResult:
    """`empty`: no requested event had a row, and no file was written (`size` 0)."""

    rows: int
    files: list[FileStat] = field(default_factory=list)
    empty: bool = False
    size: int = 0


def manifest_json(files: list[FileStat], spec: JobSpec | None = None) -> bytes:
    """`manifest.json`: every file with its event, alias, filters (as requested), rows, columns;
    and which stored rows the job exported (`continue_from` and the snapshots), if it knows."""
    return orjson.dumps(
        {
            **_stored_rows(spec),
            "files": [
                {
                    "file": f.name,
                    "event": f.event,
                    "alias": f.alias,
                    "filters": _request_form(f.filters),
                    "rows": f.rows,
                    "columns": list(f.columns),
                }
                for f in files
            ],
        },
        option=orjson.OPT_INDENT_2,
    )


def _stored_rows(spec: JobSpec | None) -> dict[str, str | None]:
    if spec is None or spec.snapshot is None:
        return {}
    after = None if spec.after_snapshot is None else str(spec.after_snapshot)
    # Snapshots are opaque strings on the wire, as in getprogress.
    return {
        "continue_from": spec.continue_from,
        "after_snapshot": after,
        "snapshot": str(spec.snapshot),
    }


def _request_form(filters: tuple[Filter, ...]) -> dict[str, dict[str, Operand]]:
    return {f.name: {c.op: c.value for c in f.conditions} for f in filters}
