"""Fixtures for the client tests: a live server with tutorial events loaded, and a transport
that cuts one download in the middle."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.conftest import Account, LiveServer


@dataclass(frozen=True)
class Loaded:
    """A server whose account's app holds `rows` tutorial events inside [start, end)."""

    server: LiveServer
    account: Account
    start: int
    end: int
    rows: list[dict[str, Any]]


def load_tutorial(server: LiveServer, account: Account, count: int) -> Loaded:
    now = int(time.time())
    rows = [
        {"event": "tr", "devtodev ID": 1 + i % 50, "time": (now - 3600) * 1000 + i, "step": i % 7}
        for i in range(count)
    ]
    server.load(account.app_id, rows)
    return Loaded(server, account, now - 7200, now + 60, rows)


@pytest.fixture(scope="module")
def tutorial(shared_server: LiveServer) -> Loaded:
    """Read-only data shared by a module's tests; each job they set leaves it unchanged."""
    return load_tutorial(shared_server, shared_server.account(), 2000)


class _CutStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int):
        self._inner = inner
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self._inner:
            if sent + len(chunk) >= self._limit:
                yield chunk[: self._limit - sent]
                raise httpx.ReadError("connection cut by the test")
            sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class CutOnceTransport(httpx.BaseTransport):
    """The real HTTP transport, except that the first download's body stops half-way with a
    read error, as when a connection drops. Records the Range header of every download."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.download_ranges: list[str | None] = []
        self.cut_at: int | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if "/download" not in request.url.path:
            return response
        self.download_ranges.append(request.headers.get("range"))
        if self.cut_at is not None:
            return response
        assert isinstance(response.stream, httpx.SyncByteStream)
        self.cut_at = int(response.headers["content-length"]) // 2
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_CutStream(response.stream, self.cut_at),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def cut_once() -> Iterator[CutOnceTransport]:
    transport = CutOnceTransport()
    yield transport
    transport.close()


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The real HTTP transport, for the sync or the async client, that notes the Range and
    If-Range headers and the status of every download."""

    def __init__(self) -> None:
        self._sync = httpx.HTTPTransport()
        self._async = httpx.AsyncHTTPTransport()
        self.downloads: list[tuple[str | None, str | None, int]] = []

    def _note(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if "/download" in request.url.path:
            headers = request.headers
            self.downloads.append(
                (headers.get("range"), headers.get("if-range"), response.status_code)
            )
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._note(request, self._sync.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._note(request, await self._async.handle_async_request(request))

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


RetryLog = list[tuple[Exception, float]]


@pytest.fixture
def retry_log() -> tuple[RetryLog, Callable[[Exception, float], None]]:
    log: RetryLog = []
    return log, lambda error, delay: log.append((error, delay))
