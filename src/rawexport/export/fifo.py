"""Streaming a query result out of the event store through a named pipe.

chDB writes `INTO OUTFILE` a FIFO from a worker thread while the caller reads it, so a result is
never held whole in memory nor written to disk before it is compressed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from collections.abc import Generator
from pathlib import Path

from rawexport.store.base import EventStore, Params

__all__ = ["query_chunks"]

PIPE_BUFFER = 1 << 20
"""The largest pipe buffer an unprivileged process may ask for by default (fs.pipe-max-size)."""


def query_chunks(
    store: EventStore, sql: str, params: Params, fmt: str
) -> Generator[bytes, None, None]:
    """The bytes of `sql`'s result in ClickHouse format `fmt`, as it is produced.

    Raises the store's error, if any, once the pipe is drained.
    """
    with tempfile.TemporaryDirectory(prefix="rawexport-") as workdir:
        fifo = Path(workdir) / "result"
        os.mkfifo(fifo, 0o600)
        # Opening both ends here never blocks, and the guard writer keeps the reader from seeing
        # end-of-file until the query has returned, even if chDB fails before opening the pipe.
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        guard = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.set_blocking(reader, True)
        with contextlib.suppress(OSError):  # a smaller buffer (per-user limits) is only slower
            fcntl.fcntl(reader, fcntl.F_SETPIPE_SZ, PIPE_BUFFER)
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                store.export(sql, params, fmt, str(fifo))
            except BaseException as error:  # re-raised in the reading thread
                failure.append(error)
            finally:
                os.close(guard)

        producer = threading.Thread(target=produce, name="rawexport-query", daemon=True)
        producer.start()
        try:
            while chunk := os.read(reader, PIPE_BUFFER):
                yield chunk
        finally:
            os.close(reader)
            _release(producer, fifo)
        if failure:
            raise failure[0]


def _release(producer: threading.Thread, fifo: Path) -> None:
    """Wait for the query to end, stopping it if the reader left before the end.

    With no reader left, chDB's next write fails (EPIPE), which ends the query. But chDB may
    still be blocked opening the pipe for writing, so a reader that comes and goes lets it
    through to that failing write.
    """
    while producer.is_alive():
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        producer.join(0.05)
