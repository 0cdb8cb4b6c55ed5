"""The event store on a ClickHouse server, through its HTTP interface (on httpx).

Only the documented core of the interface is used, so that any ClickHouse server or ClickHouse
Cloud will do: `POST /` with the query as the body (for INSERT, in the `query` URL parameter with
the data as the body), `database`, `param_<name>` for placeholders, settings as URL parameters,
the `X-ClickHouse-User` / `X-ClickHouse-Key` headers, and errors as non-200 answers whose body
is the exception text, with its code in `X-ClickHouse-Exception-Code`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

import httpx

from rawexport.store.base import Params, StoreError
from rawexport.store.clickhouse_stream import ResponseStream, refusal
from rawexport.store.clickhouse_url import ServerAddress
from rawexport.store.sql import (
    ROWS_FORMAT,
    SESSION_SETTINGS,
    cancel_marked,
    decode_rows,
    format_name,
    param_texts,
    query_mark,
    quote_identifier,
)

__all__ = ["ClickHouseStore"]

_T = TypeVar("_T")

_TIMEOUT = httpx.Timeout(connect=10.0, read=900.0, write=300.0, pool=300.0)
"""`read` is the longest silence of the server: a statement may work for minutes before its
first byte (a large load moved into place, a sort), and must not be cut off for it."""
_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=2.0)
"""Idle connections are dropped before any server drops them (ClickHouse's keep-alive timeout
has been 3 s in old releases): a statement is never sent on a connection being closed."""
_ATTEMPTS = 3
_FIRST_PAUSE_S = 0.25
_UPLOAD_BLOCK = 1 << 20

_NOT_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)
"""Failures before the request left: safe to try again, whatever the statement."""
_DROPPED: tuple[type[Exception], ...] = (
    *_NOT_SENT,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
"""Failures of a connection that dropped: a read may run again, a write may not (it may
have been done)."""


class ClickHouseStore:
    """`EventStore` on a ClickHouse server at `clickhouse://USER:PASSWORD@HOST:8123/DB`
    (`clickhouses://` for TLS), with a pool of keep-alive connections.

    The database is created if it is missing, which also proves the server and the credentials
    right when the store is opened rather than at its first use.
    """

    def __init__(self, url: str, *, timeout: httpx.Timeout = _TIMEOUT) -> None:
        address = ServerAddress.parse(url)
        self.url = address.shown
        self.database = address.database
        self._client = httpx.Client(
            base_url=address.base_url,
            headers={"X-ClickHouse-User": address.user, "X-ClickHouse-Key": address.password},
            timeout=timeout,
            limits=_LIMITS,
        )
        try:
            create = f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.database)}"
            self._retrying(lambda: self._post(create, self._url_params(None, database=False)))
        except BaseException:
            self._client.close()
            raise

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._retrying(lambda: self._post(sql, self._url_params(params)))

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        query = f"{sql}\nFORMAT {ROWS_FORMAT}"  # a line of its own: `sql` may end in a comment
        response = self._retrying(lambda: self._post(query, self._url_params(params)), _DROPPED)
        return decode_rows(response.content)

    def stream(self, sql: str, params: Params | None, fmt: str) -> ResponseStream:
        """The response body as it arrives; the server does not say how many rows it holds."""
        query = f"{sql}\nFORMAT {format_name(fmt)}"
        url_params = self._url_params(params)
        mark = query_mark()
        url_params["log_comment"] = mark
        return ResponseStream(
            lambda: self._retrying(lambda: self._post(query, url_params, stream=True), _DROPPED),
            self.url,
            partial(cancel_marked, self.execute, mark),
        )

    def insert(self, table: str, source_path: str, fmt: str, columns: Sequence[str] = ()) -> None:
        column_list = f" ({', '.join(map(quote_identifier, columns))})" if columns else ""
        url_params = self._url_params(None)
        url_params["query"] = f"INSERT INTO {table}{column_list} FORMAT {format_name(fmt)}"
        size = os.path.getsize(source_path)
        self._retrying(
            lambda: self._post(_blocks(source_path), url_params, length=size),  # a fresh body
        )

    def close(self) -> None:
        self._client.close()

    def _url_params(self, params: Params | None, *, database: bool = True) -> dict[str, str]:
        url_params = dict(SESSION_SETTINGS)
        if database:
            url_params["database"] = self.database
        url_params.update((f"param_{name}", text) for name, text in param_texts(params).items())
        return url_params

    def _post(
        self,
        body: str | Iterator[bytes],
        url_params: dict[str, str],
        *,
        stream: bool = False,
        length: int | None = None,
    ) -> httpx.Response:
        headers = {"Content-Length": str(length)} if length is not None else None
        request = self._client.build_request(
            "POST", "/", params=url_params, content=body, headers=headers
        )
        response = self._client.send(request, stream=stream)
        if response.status_code != 200:
            raise refusal(response)
        return response

    def _retrying(
        self, attempt: Callable[[], _T], retry_on: tuple[type[Exception], ...] = _NOT_SENT
    ) -> _T:
        """`attempt()`, tried again after a failure in `retry_on`; any failure to talk to the
        server in the end becomes a StoreError."""
        tried = 0
        while True:
            tried += 1
            try:
                return attempt()
            except retry_on as error:
                if tried == _ATTEMPTS:
                    raise _unreachable(self.url, error) from None
            except httpx.HTTPError as error:
                raise _unreachable(self.url, error) from None
            time.sleep(_FIRST_PAUSE_S * 2 ** (tried - 1))


def _unreachable(where: str, error: Exception) -> StoreError:
    return StoreError(f"ClickHouse at {where}: {type(error).__name__}: {error}")


def _blocks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while block := source.read(_UPLOAD_BLOCK):
            yield block
