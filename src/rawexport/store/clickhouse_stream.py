"""Reading ClickHouse's HTTP answers: a result streamed as it arrives, and refusals.

A failure after the answer has begun cannot change its status any more: ClickHouse writes its
exception text into the body and breaks the connection off before the end of the body. The
stream turns that into a StoreError carrying the text, when it is found at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import TracebackType

import httpx

from rawexport.store.base import StoreError

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


class ResponseStream:
    """The body of a streamed answer, chunk by chunk as it arrives, never held whole.

    Closing it before the end closes its connection, which makes the server stop the query
    the next time it writes.
    """

    def __init__(self, response: httpx.Response, where: str) -> None:
        self._response = response
        self._where = where

    def __enter__(self) -> ResponseStream:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
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

    def close(self) -> None:
        self._response.close()

    def _broken_off(self, end: bytes, error: httpx.HTTPError) -> StoreError:
        texts = list(_EXCEPTION.finditer(end))
        if texts:
            return StoreError(texts[-1].group(0).decode("utf-8", "replace"), int(texts[-1][1]))
        return StoreError(f"ClickHouse at {self._where} broke the result off: {error}")
