"""Writing the report ZIP in one pass from streams of unknown length, several made at once.

Up to `producers` members are read and deflated in parallel, each by a thread of its own into a
bounded spool (`deflater.py`); the archive takes them in order, so its bytes go to the sink
sequentially, as one stream (a local file, an S3 multipart upload), and are the same whatever
the number of producers. Memory is bounded by producers x spool, never by the rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from rawexport.export.deflater import DeflatedMember
from rawexport.export.zipformat import (
    MemberRecord,
    central_directory,
    data_descriptor,
    dos_time,
    local_header,
)

__all__ = ["SPOOL_CHUNKS", "ZipMember", "ZipSink", "write_zip"]

SPOOL_CHUNKS = 16
"""Compressed chunks a member made ahead of its turn may hold: with 1 MiB reads deflated about
4:1, some 4 MiB a member, enough to ride out the writer's pauses."""


class ZipSink(Protocol):
    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True)
class ZipMember:
    """A file of the archive. `chunks` is iterated in a producer thread: a generator starts its
    work (a query) only there, when the member's turn comes near, and is closed there."""

    name: str
    chunks: Iterable[bytes]


def write_zip(
    out: ZipSink,
    members: Iterable[ZipMember],
    *,
    producers: int = 1,
    trailer: Callable[[], ZipMember] | None = None,
    spool_chunks: int = SPOOL_CHUNKS,
) -> int:
    """Write `members`, then `trailer()` (made once every member is written), as a ZIP to
    `out`; return its size. `members` is pulled lazily, at most `producers` ahead of the one
    being written. A failure of any member stops the others and is raised here."""
    archive = _Archive(out)
    source = iter(members)
    in_flight: deque[tuple[str, DeflatedMember]] = deque()
    with ThreadPoolExecutor(producers, thread_name_prefix="rawexport-deflate") as pool:

        def start(member: ZipMember) -> None:
            deflated = DeflatedMember(member.chunks, spool_chunks)
            in_flight.append((member.name, deflated))
            pool.submit(deflated.run)

        try:
            for member in source:
                start(member)
                if len(in_flight) == producers:
                    archive.add(*in_flight[0])
                    in_flight.popleft()
            while in_flight:
                archive.add(*in_flight[0])
                in_flight.popleft()
            if trailer is not None:
                start(trailer())
                archive.add(*in_flight[0])
                in_flight.popleft()
        except BaseException:
            for _, deflated in in_flight:
                deflated.cancel()  # each stops at its next chunk, closing its query
            raise
    return archive.finish()


class _Archive:
    """The archive as it is written: the offset reached and what the central directory needs."""

    def __init__(self, out: ZipSink) -> None:
        self._out = out
        self._moment = dos_time(datetime.now(UTC))
        self._records: list[MemberRecord] = []
        self.size = 0

    def add(self, name: str, deflated: DeflatedMember) -> None:
        encoded = name.encode("utf-8")
        offset = self.size
        self._write(local_header(encoded, self._moment))
        for data in deflated:
            self._write(data)
        done = deflated.result
        if done is None:
            raise RuntimeError(f"{name}: the member ended without its sizes")
        self._write(data_descriptor(done.crc, done.compressed, done.uncompressed))
        self._records.append(
            MemberRecord(encoded, offset, done.crc, done.compressed, done.uncompressed)
        )

    def finish(self) -> int:
        self._write(central_directory(self._records, self._moment, self.size))
        return self.size

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self.size += len(data)
