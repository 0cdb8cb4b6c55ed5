"""Streaming a query result out of the event store through a named pipe.

chDB writes `INTO OUTFILE` a FIFO from a thread of its own while the caller reads it, so a result
is never held whole in memory nor written to disk before it is compressed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from rawexport.store.base import EventStore, Params

__all__ = ["ResultStream"]

PIPE_BUFFER = 1 << 20
"""The largest pipe buffer an unprivileged process may ask for by default (fs.pipe-max-size)."""


class ResultStream:
    """The bytes of a query's result in ClickHouse format `fmt`, as they are produced.

    The query starts at once, in a thread of its own, and waits whenever the pipe is full.
    Iterate it once; the iteration raises the store's error, if any, once the pipe is drained.
    `rows` is the number of rows of the result, known after the last chunk. `close()` stops a
    query whose result is no longer wanted, and must be called in any case (`with` does it).
    """

    def __init__(self, store: EventStore, sql: str, params: Params, fmt: str) -> None:
        self._rows: int | None = None
        self._failure: BaseException | None = None
        self._closed = False
        self._workdir = Path(tempfile.mkdtemp(prefix="rawexport-"))
        self._fifo = self._workdir / "result"
        try:
            os.mkfifo(self._fifo, 0o600)
            # Opening both ends here never blocks, and the guard writer keeps the reader from
            # seeing end-of-file until the query has returned, even if chDB fails before
            # opening the pipe.
            self._reader = os.open(self._fifo, os.O_RDONLY | os.O_NONBLOCK)
            guard = os.open(self._fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            shutil.rmtree(self._workdir, ignore_errors=True)
            raise
        os.set_blocking(self._reader, True)
        with contextlib.suppress(OSError):  # a smaller buffer (per-user limits) is only slower
            fcntl.fcntl(self._reader, fcntl.F_SETPIPE_SZ, PIPE_BUFFER)
        self._producer = threading.Thread(
            target=self._produce,
            args=(store, sql, params, fmt, guard),
            name="rawexport-query",
            daemon=True,
        )
        self._producer.start()

    def __enter__(self) -> ResultStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        while chunk := os.read(self._reader, PIPE_BUFFER):
            yield chunk
        self.close()
        if self._failure is not None:
            raise self._failure

    @property
    def rows(self) -> int:
        if self._rows is None:
            raise RuntimeError("the result has not been read to its end")
        return self._rows

    def close(self) -> None:
        """Wait for the query to end, stopping it if the result was not read to its end.

        With no reader left, chDB's next write fails (EPIPE), which ends the query. But chDB may
        still be blocked opening the pipe for writing, so a reader that comes and goes lets it
        through to that failing write.
        """
        if self._closed:
            return
        self._closed = True
        os.close(self._reader)
        while self._producer.is_alive():
            with contextlib.suppress(OSError):
                os.close(os.open(self._fifo, os.O_RDONLY | os.O_NONBLOCK))
            self._producer.join(0.05)
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _produce(self, store: EventStore, sql: str, params: Params, fmt: str, guard: int) -> None:
        try:
            self._rows = store.export(sql, params, fmt, str(self._fifo))
        except BaseException as error:  # raised again in the reading thread
            self._failure = error
        finally:
            os.close(guard)
