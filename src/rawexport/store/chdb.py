"""The embedded event store: ClickHouse SQL on a chDB session over a local data directory."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import chdb
import orjson

from rawexport.store.base import Params

__all__ = ["ChdbStore", "quote_identifier", "quote_string"]

# Query parameters reach ClickHouse as text parsed with the TabSeparated escaping rules.
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


class _QueryResult(Protocol):
    def bytes(self) -> bytes: ...

    def rows_read(self) -> int:
        """The rows of the result (not of the tables read: that is `storage_rows_read`)."""


class _Connection(Protocol):
    """The part of `chdb.connect()`'s connection used here (chdb ships no type hints)."""

    def query(self, sql: str, fmt: str, *, params: dict[str, str]) -> _QueryResult: ...

    def close(self) -> None: ...


_connect: Callable[[str], _Connection] = chdb.connect


def quote_string(value: str) -> str:
    """A ClickHouse string literal: `'...'` with backslash, quote and control bytes escaped."""
    return "'" + value.translate(_TSV_ESCAPES).replace("'", "\\'") + "'"


def quote_identifier(name: str) -> str:
    """A ClickHouse identifier in backticks, safe for any name."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_element_literal(v) for v in value) + "]"
    raise TypeError(f"unsupported query parameter type: {type(value).__name__}")


def _element_literal(value: Any) -> str:
    return quote_string(value) if isinstance(value, str) else _param_text(value)


def _format_name(fmt: str) -> str:
    if not fmt.isidentifier():
        raise ValueError(f"not a ClickHouse format name: {fmt!r}")
    return fmt


def _param_texts(params: Params | None) -> dict[str, str]:
    return {name: _param_text(value) for name, value in (params or {}).items()}


class ChdbStore:
    """`EventStore` on one embedded chDB server, through a pool of connections.

    Query parameters are connection state in chDB: threads sharing a connection can run a query
    with another thread's parameters (seen here: a job's query with another job's app id). So a
    connection serves one query at a time, and idle ones are reused.
    """

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.url = f"chdb://{path}"
        self._path = str(path)
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._opened: list[_Connection] = []
        with self._connection():  # fail here, not on the first query, when it cannot open
            pass

    @contextmanager
    def _connection(self) -> Iterator[_Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = _connect(self._path)
            # rows() decodes JSON; 64-bit integers must come back as numbers, not strings.
            conn.query("SET output_format_json_quote_64bit_integers = 0", "Null", params={})
            with self._lock:
                self._opened.append(conn)
        try:
            yield conn
        finally:
            with self._lock:
                self._idle.append(conn)

    def _query(self, sql: str, fmt: str, params: Params | None) -> _QueryResult:
        with self._connection() as conn:
            result = conn.query(sql, fmt, params=_param_texts(params))
            result.bytes()  # read the result before the connection serves another query
            return result

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._query(sql, "Null", params)

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        result = self._query(sql, "JSONCompactEachRow", params).bytes()
        return [tuple(orjson.loads(line)) for line in result.splitlines()]

    def export(self, sql: str, params: Params | None, fmt: str, path: str) -> int:
        # APPEND lets the target already exist, which a FIFO always does.
        result = self._query(
            f"{sql} INTO OUTFILE {quote_string(path)} APPEND FORMAT {_format_name(fmt)}"
            " SETTINGS format_csv_null_representation = ''",
            "Null",
            params,
        )
        return result.rows_read()

    def insert_file(self, table: str, path: str, fmt: str, columns: Sequence[str] = ()) -> None:
        column_list = f" ({', '.join(map(quote_identifier, columns))})" if columns else ""
        self._query(
            f"INSERT INTO {table}{column_list} FROM INFILE {quote_string(path)}"
            f" FORMAT {_format_name(fmt)}",
            "Null",
            None,
        )

    def close(self) -> None:
        with self._lock:
            opened, self._opened, self._idle = self._opened, [], []
        for conn in opened:
            conn.close()
