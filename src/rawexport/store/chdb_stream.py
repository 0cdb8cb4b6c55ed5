"""Streaming a result out of chDB through a named pipe.

chDB writes `INTO OUTFILE` a FIFO from a thread of its own while the caller reads it, so a result
is never held whole in memory nor written to disk before it is used. The chunks are as large as
the pipe buffer, which is what keeps this path fast.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
from collections.abc import Callable, Iterator

from rawexport.store.base import ClosedOnExit
from rawexport.store.leftovers import private_tempdir

__all__ = ["FifoStream", "PIPE_BUFFER"]

PIPE_BUFFER = 1 << 20
"""The largest pipe buffer an unprivileged process may ask for by default (fs.pipe-max-size)."""


class FifoStream(ClosedOnExit):
    """The bytes that `produce(path)` writes into a FIFO at `path`, as they are written.

    `produce` runs at once, in a thread of its own, and waits whenever the pipe is full; it
    returns the number of rows it wrote. Iterate the stream once; the iteration raises the
    producer's error, if any, once the pipe is drained. `close()` stops a producer whose output
    is no longer wanted with `cancel()`, and must be called in any case (`with` does it).
    """

    def __init__(self, produce: Callable[[str], int], cancel: Callable[[], None]) -> None:
        self._cancel = cancel
        self._rows: int | None = None
        self._drained = False
        self._failure: BaseException | None = None
        self._closed = False
        self._workdir = private_tempdir("fifo")  # removed after a crash: see leftovers
        self._fifo = self._workdir / "result"
        try:
            os.mkfifo(self._fifo, 0o600)
            # Opening both ends here never blocks, and the guard writer keeps the reader from
            # seeing end-of-file until the producer has returned, even if it fails before
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
            target=self._produce, args=(produce, guard), name="rawexport-query", daemon=True
        )
        self._producer.start()

    def __iter__(self) -> Iterator[bytes]:
        while chunk := os.read(self._reader, PIPE_BUFFER):
            yield chunk
        self._drained = True
        self.close()
        if self._failure is not None:
            raise self._failure

    @property
    def rows(self) -> int | None:
        """The rows written, once the output has been read to its end."""
        return self._rows if self._drained else None

    def cancel(self) -> None:
        """Stop the query, from any thread: its failure ends the reader's iteration."""
        if not self._drained:
            self._cancel()

    def close(self) -> None:
        """Wait for the producer to end, stopping it if its output was not read to its end.

        A query whose reader has gone is not stopped by its failing writes: chDB goes on to the
        end of the result, however long. So it is cancelled, again until it ends (the first
        time may come before the query is under way). It may also still be blocked opening the
        pipe for writing: a reader that comes and goes lets it through.
        """
        if self._closed:
            return
        self._closed = True
        os.close(self._reader)
        while self._producer.is_alive():
            if not self._drained:
                self._cancel()
            with contextlib.suppress(OSError):
                os.close(os.open(self._fifo, os.O_RDONLY | os.O_NONBLOCK))
            self._producer.join(0.05)
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _produce(self, produce: Callable[[str], int], guard: int) -> None:
        try:
            self._rows = produce(str(self._fifo))
        except BaseException as error:  # raised again in the reading thread
            self._failure = error
        finally:
            os.close(guard)
