"""The embedded event store: ClickHouse SQL on a chDB session over a local data directory."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Protocol

# chDB allocates with a jemalloc of its own, which reads JE_MALLOC_CONF as the library loads,
# hence before the import. By default it keeps an arena per CPU and a cache per thread, and
# ClickHouse runs many threads: an export of 10 M rows peaked 40-50 MB higher than with one
# arena and no thread caches, in about the same time (bench/export_bench.py, docs/performance.md).
# An operator's own JE_MALLOC_CONF wins.
os.environ.setdefault("JE_MALLOC_CONF", "percpu_arena:disabled,narenas:1,tcache:false")

import chdb

from rawexport.store.base import Params, StoreError
from rawexport.store.chdb_stream import FifoStream
from rawexport.store.sql import (
    ROWS_FORMAT,
    SESSION_SETTINGS,
    cancel_marked,
    decode_rows,
    format_name,
    param_texts,
    query_mark,
    quote_identifier,
    quote_string,
)

__all__ = ["EMBEDDED_DATABASE", "ChdbStore"]

EMBEDDED_DATABASE = "rawexport"
"""The database of an embedded store: where embedded stores have always kept their tables."""


class _QueryResult(Protocol):
    def bytes(self) -> bytes: ...

    def rows_read(self) -> int:
        """The rows of the result (not of the tables read: that is `storage_rows_read`)."""


class _Connection(Protocol):
    """The part of `chdb.connect()`'s connection used here (chdb ships no type hints)."""

    def query(self, sql: str, fmt: str, *, params: dict[str, str]) -> _QueryResult: ...

    def close(self) -> None: ...


_connect: Callable[[str], _Connection] = chdb.connect


class ChdbStore:
    """`EventStore` on one embedded chDB server, through a pool of connections.

    Query parameters, settings and the current database are connection state in chDB: threads
    sharing a connection can run a query with another thread's parameters (seen here: a job's
    query with another job's app id). So a connection serves one query at a time, and idle
    ones are reused.
    """

    database = EMBEDDED_DATABASE

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.url = f"chdb://{path}"
        self._path = str(path)
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._opened: list[_Connection] = []
        with self._connection():  # fail here, not on the first query, when it cannot open
            pass

    def _open(self) -> _Connection:
        conn = _connect(self._path)
        for name, value in SESSION_SETTINGS.items():
            _run(conn, f"SET {quote_identifier(name)} = {quote_string(value)}")
        _run(conn, f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.database)}")
        _run(conn, f"USE {quote_identifier(self.database)}")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[_Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
            with self._lock:
                self._opened.append(conn)
        try:
            yield conn
        finally:
            with self._lock:
                self._idle.append(conn)

    def _query(self, sql: str, fmt: str, params: Params | None) -> _QueryResult:
        with self._connection() as conn:
            result = _run(conn, sql, fmt, param_texts(params))
            result.bytes()  # read the result before the connection serves another query
            return result

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._query(sql, "Null", params)

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return decode_rows(self._query(sql, ROWS_FORMAT, params).bytes())

    def stream(self, sql: str, params: Params | None, fmt: str) -> FifoStream:
        """The result written by chDB into a FIFO; its rows are known at the end."""
        mark = query_mark()
        return FifoStream(
            partial(self._write_result, sql, params, format_name(fmt), mark),
            partial(cancel_marked, self.execute, mark),
        )

    def _write_result(self, sql: str, params: Params | None, fmt: str, mark: str, path: str) -> int:
        # APPEND lets the target already exist, which a FIFO always does.
        into = (
            f"{sql}\nINTO OUTFILE {quote_string(path)} APPEND FORMAT {fmt}"
            f" SETTINGS log_comment = {quote_string(mark)}"
        )
        return self._query(into, "Null", params).rows_read()

    def insert(self, table: str, source_path: str, fmt: str, columns: Sequence[str] = ()) -> None:
        column_list = f" ({', '.join(map(quote_identifier, columns))})" if columns else ""
        self.execute(
            f"INSERT INTO {table}{column_list} FROM INFILE {quote_string(source_path)}"
            f" FORMAT {format_name(fmt)}"
        )

    def close(self) -> None:
        with self._lock:
            opened, self._opened, self._idle = self._opened, [], []
        for conn in opened:
            conn.close()


def _run(
    conn: _Connection, sql: str, fmt: str = "Null", params: dict[str, str] | None = None
) -> _QueryResult:
    try:
        return conn.query(sql, fmt, params=params or {})
    except RuntimeError as error:  # chDB raises ClickHouse's exception text as it is
        raise StoreError(str(error)) from None
