"""Writing the report ZIP in one pass from streams of unknown length, several made at once.

Up to `producers` members are read and deflated in parallel, each by a thread of its own into a
bounded spool (`deflater.py`); the archive takes them in order, so its bytes go to the sink
sequentially, as one stream (a local file, an S3 multipart upload), and are the same whatever
the number of producers. Memory is bounded by producers x spool, never by the rows.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from isal import isal_zlib

from rawexport.export.deflater import Deflated, DeflatedMember
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
    """A file of the archive: the bytes of `chunks`, then those of each of `later_parts`.

    Each part is iterated in a producer thread of its own: a generator starts its work (a query)
    only there, when its turn comes near, and is closed there. A large file in parts is made on
    several cores at once.
    """

    name: str
    chunks: Iterable[bytes]
    later_parts: Sequence[Iterable[bytes]] = ()


def write_zip(
    out: ZipSink,
    members: Iterable[ZipMember],
    *,
    producers: int = 1,
    early: Sequence[ZipMember] = (),
    trailer: Callable[[], ZipMember] | None = None,
    spool_chunks: int = SPOOL_CHUNKS,
) -> int:
    """Write `members`, then `early`, then `trailer()` (made once every member is written), as
    a ZIP to `out`; return its size. `members` is pulled lazily: at most `producers` parts are
    made at once, counting the one being written. Each part of `early` is made from the start
    by a thread of its own beside them (a small file whose query would otherwise run last and
    alone), waiting once its spool is full. A failure of any part stops the others and is
    raised here."""
    archive = _Archive(out)
    in_flight: deque[tuple[_Part, DeflatedMember]] = deque()
    ahead = list(_parts(early))
    with (
        ThreadPoolExecutor(producers, thread_name_prefix="rawexport-deflate") as pool,
        ThreadPoolExecutor(max(1, len(ahead)), thread_name_prefix="rawexport-early") as side,
    ):

        def start(part: _Part, threads: ThreadPoolExecutor) -> DeflatedMember:
            deflated = DeflatedMember(part.chunks, spool_chunks, last=part.last)
            threads.submit(deflated.run)
            return deflated

        made_early = deque((part, start(part, side)) for part in ahead)

        def write_first(parts: deque[tuple[_Part, DeflatedMember]]) -> None:
            archive.add(*parts[0])
            parts.popleft()  # only once written: a part that failed is still cancelled below

        try:
            for part in _parts(members):
                in_flight.append((part, start(part, pool)))
                if len(in_flight) == producers:
                    write_first(in_flight)
            while in_flight:
                write_first(in_flight)
            while made_early:
                write_first(made_early)
            if trailer is not None:
                for part in _parts([trailer()]):
                    in_flight.append((part, start(part, pool)))
                    write_first(in_flight)
        except BaseException:
            for _, deflated in [*in_flight, *made_early]:
                deflated.cancel()  # each stops at its next chunk, closing its query
            raise
    return archive.finish()


@dataclass(frozen=True)
class _Part:
    name: str
    chunks: Iterable[bytes]
    first: bool
    last: bool


def _parts(members: Iterable[ZipMember]) -> Iterator[_Part]:
    for member in members:
        parts = [member.chunks, *member.later_parts]
        for n, chunks in enumerate(parts):
            yield _Part(member.name, chunks, n == 0, n == len(parts) - 1)


class _Archive:
    """The archive as it is written: the offset reached and what the central directory needs."""

    def __init__(self, out: ZipSink) -> None:
        self._out = out
        self._moment = dos_time(datetime.now(UTC))
        self._records: list[MemberRecord] = []
        self.size = 0
        # The member being written, whose parts arrive one after the other.
        self._name, self._offset, self._sums = b"", 0, Deflated(0, 0, 0)

    def add(self, part: _Part, deflated: DeflatedMember) -> None:
        if part.first:
            self._name = part.name.encode("utf-8")
            self._offset = self.size
            self._sums = Deflated(0, 0, 0)
            self._write(local_header(self._name, self._moment))
        for data in deflated:
            self._write(data)
        done = deflated.result
        if done is None:
            raise RuntimeError(f"{part.name}: a part ended without its sizes")
        sums = self._sums
        self._sums = Deflated(
            isal_zlib.crc32_combine(sums.crc, done.crc, done.uncompressed),
            sums.compressed + done.compressed,
            sums.uncompressed + done.uncompressed,
        )
        if part.last:
            crc, compressed, uncompressed = dataclasses.astuple(self._sums)
            self._write(data_descriptor(crc, compressed, uncompressed))
            self._records.append(
                MemberRecord(self._name, self._offset, crc, compressed, uncompressed)
            )

    def finish(self) -> int:
        self._write(central_directory(self._records, self._moment, self.size))
        return self.size

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self.size += len(data)
