"""Reading ClickHouse's HTTP answers: a result streamed as it arrives, and refusals.

A failure after the answer has begun cannot change its status any more: ClickHouse writes its
exception text into the body and breaks the connection off before the end of the body. The
stream turns that into a StoreError carrying the text, when it is found at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx

from rawexport.store.base import ClosedOnExit, StoreError

__all__ = ["ResponseStream", "refusal"]

_EXCEPTION = re.compile(rb"Code: (\d+)\. DB::Exception: [^\n]*")


def refusal(response: httpx.Response) -> StoreError:
    """The error of a non-200 answer: its body is the exception text (read here, and the
    answer closed, when it was streamed)."""
    try:
        text = response.read().decode("utf-8", "replace")
    finally:
        response.close()
    code = response.headers.get("X-ClickHouse-Exception-Code", "")
    if not text.strip():
        text = f"HTTP {response.status_code} {response.reason_phrase}"
    return StoreError(text, int(code) if code.isdigit() else None)


class ResponseStream(ClosedOnExit):
    """The body of a streamed answer, chunk by chunk as it arrives, never held whole.

    The request is sent when the iteration begins (`open_response`), so that the stream exists,
    and can be cancelled, while the server works on a result whose first byte is minutes away.
    `cancel()` asks the server to stop the query (`cancel_query`), which breaks the answer off.
    Closing it before the end closes its connection, which makes the server stop the query
    the next time it writes.
    """

    def __init__(
        self,
        open_response: Callable[[], httpx.Response],
        where: str,
        cancel_query: Callable[[], None],
    ) -> None:
        self._open_response = open_response
        self._cancel_query = cancel_query
        self._response: httpx.Response | None = None
        self._closed = False
        self._where = where

    def __iter__(self) -> Iterator[bytes]:
        if self._closed:
            raise StoreError(f"ClickHouse at {self._where}: the result was closed unread")
        self._response = self._open_response()
        previous = last = b""  # the end of the body, where a late exception text would be
        try:
            for chunk in self._response.iter_bytes():
                previous, last = last, chunk
                yield chunk
        except httpx.HTTPError as error:
            raise self._broken_off(previous + last, error) from None
        finally:
            self.close()

    @property
    def rows(self) -> None:
        """Not known: the server does not count the rows of a streamed answer."""
        return None

    def cancel(self) -> None:
        self._cancel_query()

    def close(self) -> None:
        self._closed = True
        if self._response is not None:
            self._response.close()

    def _broken_off(self, end: bytes, error: httpx.HTTPError) -> StoreError:
        texts = list(_EXCEPTION.finditer(end))
        if texts:
            return StoreError(texts[-1].group(0).decode("utf-8", "replace"), int(texts[-1][1]))
        return StoreError(f"ClickHouse at {self._where} broke the result off: {error}")
