"""An event store whose running queries another thread can stop: how a job is bounded.

A worker runs an export through one `InterruptibleStore`; a pool stopping, a lease lost or a
time limit passed calls `interrupt(reason)` from its own thread. Every query of the export is a
stream (`rows` too, so the planning probes are covered), and each stream's backend stops its
query on `cancel()` (chDB and ClickHouse: KILL QUERY by a mark of the query) instead of the
export waiting for it to end. The query then fails, the export sees `Interrupted`, and nothing
of the store is held meanwhile: heartbeats go on in their own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from rawexport.store.base import EventStore, Params, ResultStream, StoreError, WrappedStream
from rawexport.store.sql import ROWS_FORMAT, decode_rows

__all__ = ["Interrupted", "InterruptibleStore"]

_CANCEL_EVERY_S = 0.05
_CANCEL_FOR_S = 10.0
"""How long a stopped query is asked again to stop: the first ask may come before the backend
has started it, and a query found nowhere within this long has ended anyway."""


class Interrupted(Exception):
    """The export was stopped from outside; the message says why."""


class InterruptibleStore:
    """`EventStore` on `store` for one export; `interrupt()` stops its queries, now and later."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.url = store.url
        self.database = store.database
        self._lock = threading.Lock()
        self._running: set[_Stoppable] = set()
        self._reason: str | None = None

    @property
    def reason(self) -> str | None:
        """Why the store was interrupted; None while it was not."""
        return self._reason

    def check(self) -> None:
        """Raise `Interrupted` once the store has been interrupted."""
        if self._reason is not None:
            raise Interrupted(self._reason)

    def interrupt(self, reason: str) -> None:
        """Stop every running query and refuse new ones; returns at once (the queries are
        cancelled from a thread of their own until they have ended)."""
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
        threading.Thread(target=self._cancel_running, name="rawexport-cancel", daemon=True).start()

    def execute(self, sql: str, params: Params | None = None) -> None:
        self.check()
        self._store.execute(sql, params)

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        # Through a stream, so that a long aggregate (a planning probe) can be stopped too.
        with self.stream(sql, params, ROWS_FORMAT) as result:
            return decode_rows(b"".join(result))

    def stream(self, sql: str, params: Params | None, fmt: str) -> ResultStream:
        self.check()
        stream = _Stoppable(self, self._store.stream(sql, params, fmt))
        with self._lock:
            self._running.add(stream)
        if self._reason is not None:  # interrupted in between: not seen by _cancel_running
            stream.close()
            self.check()
        return stream

    def insert(self, table: str, source_path: str, fmt: str, columns: Sequence[str] = ()) -> None:
        self.check()
        self._store.insert(table, source_path, fmt, columns)

    def close(self) -> None:
        """Nothing to release: the store underneath belongs to the caller."""

    def _ended(self, stream: _Stoppable) -> None:
        with self._lock:
            self._running.discard(stream)

    def _cancel_running(self) -> None:
        deadline = time.monotonic() + _CANCEL_FOR_S
        while time.monotonic() < deadline:
            with self._lock:
                running = list(self._running)
            if not running:
                return
            for stream in running:
                stream.cancel()
            time.sleep(_CANCEL_EVERY_S)


class _Stoppable(WrappedStream):
    """A stream of the store: ends with `Interrupted`, not the backend's error, once stopped."""

    def __init__(self, owner: InterruptibleStore, inner: ResultStream) -> None:
        super().__init__(inner)
        self._owner = owner

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._owner.check()
                yield chunk
        except StoreError:
            self._owner.check()  # a query failing because it was cancelled was interrupted
            raise
        self._owner.check()  # a killed query may also look like one that ended

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owner._ended(self)
