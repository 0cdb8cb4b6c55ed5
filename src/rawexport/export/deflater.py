"""Deflating one ZIP member in a thread of its own, into a bounded spool of compressed chunks.

Several members of a report are made at once (their queries and their deflate, which ISA-L runs
without the GIL), while the archive takes them one after the other. A member made ahead of its
turn waits once its spool holds `limit` chunks, and so does the query feeding it: memory is
bounded by the number of members in flight times the spool, whatever the rows.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from isal import isal_zlib

__all__ = ["Deflated", "DeflatedMember", "raw_deflater"]

_LEVEL = 1  # ISA-L level 1: several times faster than zlib at about zlib's level-1 ratio
_RAW_DEFLATE = -15  # ZIP entries hold raw deflate data, without a zlib header


def raw_deflater() -> isal_zlib.Compress:
    """A compressor as every member's: raw deflate (as ZIP holds it) at ISA-L level 1."""
    return isal_zlib.compressobj(_LEVEL, isal_zlib.DEFLATED, _RAW_DEFLATE)


@dataclass(frozen=True)
class Deflated:
    """What the archive needs about a member once its data is written."""

    crc: int
    compressed: int
    uncompressed: int


class DeflatedMember:
    """The compressed bytes of `chunks`, made by `run()` in one thread and read in another.

    Iterating gives the compressed chunks in order; then `result` holds the sizes and CRC. An
    error of `chunks` (the member's query) is raised by the iteration. `cancel()` ends `run()` at
    its next chunk and closes `chunks` there (which stops the member's query).

    A part of a file that is not its `last` ends with a sync flush instead of the final block:
    the deflate data of the parts, one after the other, is then the deflate data of the file.
    """

    def __init__(self, chunks: Iterable[bytes], limit: int, *, last: bool = True) -> None:
        if limit < 1:
            raise ValueError("a spool holds at least one chunk")
        self._chunks = chunks
        self._limit = limit
        self._flush_mode = isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH
        self._spool: deque[bytes] = deque()
        self._ready = threading.Condition()
        self._finished = False
        self._cancelled = False
        self._failure: BaseException | None = None
        self.result: Deflated | None = None
        self.high_water = 0
        """The most chunks the spool held at once (for tests of the bound)."""

    def run(self) -> None:
        compressor = raw_deflater()
        crc = compressed = uncompressed = 0
        chunks = iter(self._chunks)
        try:
            if self._cancelled:  # cancelled before its thread came: start no query
                return
            for chunk in chunks:
                crc = isal_zlib.crc32(chunk, crc)
                uncompressed += len(chunk)
                data = compressor.compress(chunk)
                compressed += len(data)
                if data and not self._put(data):
                    return
            data = compressor.flush(self._flush_mode)
            compressed += len(data)
            if data and not self._put(data):
                return
            self._finish(Deflated(crc, compressed, uncompressed), None)
        except BaseException as error:  # given to the reading thread
            self._finish(None, error)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def cancel(self) -> None:
        with self._ready:
            self._cancelled = True
            self._ready.notify_all()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            with self._ready:
                while not self._spool and not self._finished:
                    self._ready.wait()
                if not self._spool:
                    break
                data = self._spool.popleft()
                self._ready.notify_all()
            yield data
        if self._failure is not None:
            raise self._failure

    def _put(self, data: bytes) -> bool:
        """Spool `data`, waiting while the spool is full; False once cancelled."""
        with self._ready:
            while len(self._spool) >= self._limit and not self._cancelled:
                self._ready.wait()
            if self._cancelled:
                return False
            self._spool.append(data)
            self.high_water = max(self.high_water, len(self._spool))
            self._ready.notify_all()
            return True

    def _finish(self, result: Deflated | None, failure: BaseException | None) -> None:
        with self._ready:
            self.result, self._failure, self._finished = result, failure, True
            self._ready.notify_all()
