"""A validated export request: what a job exports. Stored with the job as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["FORMATS", "Condition", "EventSelection", "Filter", "Format", "JobSpec"]

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")

Scalar = str | int | float | bool
Operand = Scalar | list[Scalar]


@dataclass(frozen=True)
class Condition:
    """One comparison: `op` is gt, lt, gte, lte, eq or neq; a list operand means (not) in."""

    op: str
    value: Operand


@dataclass(frozen=True)
class Filter:
    """All conditions on one parameter (ANDed). No condition means "present and not empty"."""

    name: str
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class EventSelection:
    """One entry of `events`: a standard event id (`lu`, `sbs_payments`) or a custom event name.

    `file_stem` is the alias, or the id/name when there is none; it is not yet a safe file name.
    """

    event: str
    custom: bool
    file_stem: str
    alias: str | None = None
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class JobSpec:
    app_id: str
    start_date: int
    end_date: int
    events: tuple[EventSelection, ...]
    all_custom: bool = False
    """`@custom_events` (or an empty list): every custom event with data in the interval."""
    format: Format = "csv"
    users_filter: tuple[Filter, ...] = field(default=())
    notify_url: str | None = None
    """Where the job's end is POSTed (a webhook); checked against the operator's allowlist."""
    base_url: str | None = None
    """The API's address for the notification's report `url`: `public_url`, else the address
    the job was requested at (set with `notify_url` only; a worker has no request to ask)."""
    continue_from: str | None = None
    """The job this one continues from (extension): it exports only rows stored after that
    job's snapshot."""
    snapshot: int | None = None
    """The last load batch whose rows the job exports, taken when it was submitted; None for
    the jobs of releases before snapshots, which export every stored row."""
    after_snapshot: int | None = None
    """With `continue_from`: that job's snapshot; the job exports the batches after it."""

    @property
    def start_ms(self) -> int:
        return self.start_date * 1000

    @property
    def end_ms(self) -> int:
        return self.end_date * 1000

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            app_id=raw["app_id"],
            start_date=raw["start_date"],
            end_date=raw["end_date"],
            events=tuple(
                EventSelection(
                    event=e["event"],
                    custom=e["custom"],
                    file_stem=e["file_stem"],
                    alias=e["alias"],
                    filters=_filters(e["filters"]),
                )
                for e in raw["events"]
            ),
            all_custom=raw["all_custom"],
            format=raw["format"],
            users_filter=_filters(raw["users_filter"]),
            notify_url=raw.get("notify_url"),
            base_url=raw.get("base_url"),
            continue_from=raw.get("continue_from"),  # absent from earlier releases' jobs
            snapshot=raw.get("snapshot"),
            after_snapshot=raw.get("after_snapshot"),
        )


def _filters(raw: list[dict[str, Any]]) -> tuple[Filter, ...]:
    return tuple(
        Filter(f["name"], tuple(Condition(c["op"], c["value"]) for c in f["conditions"]))
        for f in raw
    )
