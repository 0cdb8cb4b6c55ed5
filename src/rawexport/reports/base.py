"""The report storage interface the worker pool, the sweeper and `download` are written against.

A report is one immutable object under a key (`JOB.zip`). It is written once, as the ZIP is made,
and appears only when complete: a reader on any machine sees the whole report or nothing. Every
backend answers the same `ReportObject`, so `download` has one code path for Range and If-Range.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

__all__ = [
    "InUse",
    "ReportObject",
    "ReportStore",
    "ReportStoreError",
    "ReportWriter",
    "job_id_of_report",
    "report_key",
]


class ReportStoreError(Exception):
    """The storage refused or failed; the message is one line an operator can act on."""


_REPORT_SUFFIX = ".zip"

InUse = Callable[[str], bool]
"""Whether the report `key` may still be written by a live job (its leftovers are kept)."""


def report_key(job_id: str) -> str:
    """The key of a job's report: the job id is a UUID, so it is safe as a file or object name."""
    return f"{job_id}{_REPORT_SUFFIX}"


def job_id_of_report(key: str) -> str:
    """The job whose report `key` is (the inverse of `report_key`)."""
    return key.removesuffix(_REPORT_SUFFIX)


@dataclass(frozen=True)
class ReportObject:
    """A published report: what `download` needs to answer, and its bytes by range."""

    key: str
    size: int
    etag: str
    """Strong and quoted (`"..."`), the same on every machine for the same object."""
    last_modified: float
    """UNIX seconds, as the HTTP Last-Modified date is made from."""
    _read: Callable[[int, int], Generator[bytes, None, None]]

    def read(self, start: int, end: int) -> Generator[bytes, None, None]:
        """Bytes `start` to `end` inclusive, in chunks; close it to release the file or
        connection early. It blocks: iterate it off the event loop."""
        if not 0 <= start <= end < self.size:
            raise ValueError(f"bytes {start}-{end} are not within a report of {self.size} bytes")
        return self._read(start, end)


class ReportWriter(Protocol):
    """The bytes of one report as they are made.

    Used as a context manager: leaving it without `commit()`, or through an exception, aborts, and
    nothing of the report is left behind (no file, no object, no pending upload).
    """

    def write(self, data: bytes) -> None: ...

    def commit(self) -> None:
        """Publish what was written under the key, atomically, replacing nothing half-made."""

    def __enter__(self) -> ReportWriter: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class ReportStore(Protocol):
    url: str

    def writer(self, key: str) -> ReportWriter:
        """A writer whose commit publishes the report `key`."""

    def open(self, key: str) -> ReportObject | None:
        """The published report `key`, or None when there is none (never written, or deleted)."""

    def delete(self, key: str) -> None:
        """Remove the report `key`; a report already gone is not an error."""

    def remove_leftovers(self, older_than_s: float, in_use: InUse) -> int:
        """Remove what writers that died before commit or abort left behind; return how many.

        Only leftovers older than `older_than_s` seconds whose key is not `in_use` are removed,
        so a writer still at work keeps its partial report.
        """
