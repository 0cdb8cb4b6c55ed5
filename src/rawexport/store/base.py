"""The event store interface that the export engine and loading are written against.

Backends are chosen by URL scheme (`chdb:///path` embedded, `clickhouse://host` a server); all
speak ClickHouse SQL, so the export engine never needs to know which one it has. Tables are
named without a database: each backend runs every statement in its own database (`database`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, Self

__all__ = ["ClosedOnExit", "EventStore", "Params", "ResultStream", "StoreError", "WrappedStream"]

Params = Mapping[str, Any]
"""Query parameters for `{name:Type}` placeholders: str, int, float, bool, or lists of those."""

_CODE = re.compile(r"^Code: (\d+)\.")


class StoreError(Exception):
    """A statement that the event store refused or could not run.

    The message is ClickHouse's own exception text (which names the code) on one line, fit to
    show a user as it is; `code` is ClickHouse's error code when there is one.
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        text = " ".join(message.split())
        named = _CODE.match(text)
        if code is None and named is not None:
            code = int(named[1])
        elif code is not None and named is None:
            text = f"Code: {code}. {text}"
        self.code = code
        super().__init__(text)


class ResultStream(Protocol):
    """The bytes of one query's result, in the format asked for, as they are produced.

    Iterate it once; a failure of the query is raised by the iteration. `close()` (or leaving
    the `with` block) stops a query whose result is no longer wanted, promptly.
    """

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def __iter__(self) -> Iterator[bytes]: ...

    @property
    def rows(self) -> int | None:
        """The rows of the result once it has been read to its end, if the backend knows
        them exactly; else None."""

    def cancel(self) -> None:
        """Ask the query to stop, from any thread; the iteration then ends with an error.

        Asking may come before the query has started: the caller asks again until the
        iteration has ended."""

    def close(self) -> None: ...


class ClosedOnExit:
    """A base of streams: `with` gives the stream and closes it on the way out, whatever
    happened, so a query whose result is no longer wanted is stopped."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class WrappedStream(ClosedOnExit):
    """A base of streams that watch another one go by: its rows, `cancel` and `close` are the
    inner stream's; a subclass iterates it with what it adds."""

    def __init__(self, inner: ResultStream) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._inner)

    @property
    def rows(self) -> int | None:
        return self._inner.rows

    def cancel(self) -> None:
        self._inner.cancel()

    def close(self) -> None:
        self._inner.close()


class EventStore(Protocol):
    url: str
    """Where the store is, fit for logs: never a password."""
    database: str
    """The database the store's tables live in; statements name tables without it."""

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT ... SELECT)."""

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a SELECT and return its rows as Python values."""

    def stream(self, sql: str, params: Params | None, fmt: str) -> ResultStream:
        """Start SELECT `sql` and stream its result in ClickHouse format `fmt`.

        Null is written as an empty field in CSV formats.
        """

    def insert(self, table: str, source_path: str, fmt: str, columns: Sequence[str] = ()) -> None:
        """Append the rows of the file at `source_path`, in ClickHouse format `fmt`, to
        `table`, streaming the file rather than reading it whole."""

    def close(self) -> None: ...
