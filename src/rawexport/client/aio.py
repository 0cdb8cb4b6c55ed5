"""`AsyncClient`: the asyncio twin of `Client`, sharing its parsing and retry decisions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

from rawexport.client import protocol
from rawexport.client.download import (
    ByteProgress,
    PartFile,
    archive_name,
    body_start,
    expected_total,
    request_headers,
)
from rawexport.client.errors import RawExportError
from rawexport.client.protocol import EventSpec, Progress
from rawexport.client.report import Report
from rawexport.client.retry import PollPacing, RetryBudget, RetryNotice, RetryPolicy
from rawexport.client.timeparse import Instant, to_unix

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient:
    """A client of the RAW export API at `base_url` (the server root, e.g.
    https://devtodev.com, or the API's own https://devtodev.com/api/v1/rawexport) for the user
    who owns `token`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryNotice | None = None,
    ):
        self._token = token
        self._retry = retry or RetryPolicy()
        self._on_retry = on_retry
        self._http = httpx.AsyncClient(
            base_url=protocol.api_url(base_url),
            transport=transport,
            timeout=timeout,
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def set_job(
        self,
        app_id: str,
        start: Instant,
        end: Instant,
        events: Sequence[EventSpec] = (),
        *,
        report_format: str | None = None,
        continue_from: str | None = None,
        notify_url: str | None = None,
    ) -> str:
        """Start an export of [start, end) and return its job id; with `continue_from` (the id
        of an earlier complete job) only the rows stored since that job took its snapshot; with
        `notify_url` the server POSTs the job's end there (the operator must allow its host)."""
        body = protocol.setjob_body(
            self._token,
            app_id,
            to_unix(start),
            to_unix(end),
            events,
            report_format,
            continue_from,
            notify_url,
        )
        send = partial(self._http.post, "setjob", params={"user_token": self._token}, json=body)
        budget = RetryBudget(self._retry, resend_safe=False)
        return await self._call(send, protocol.parse_job_id, budget)

    async def get_progress(self, job_id: str) -> Progress:
        body = {"user_token": self._token, "job_id": job_id}
        send = partial(self._http.post, "getprogress", json=body)
        return await self._call(send, protocol.parse_progress, RetryBudget(self._retry))

    async def wait(
        self, job_id: str, on_progress: Callable[[Progress], None] | None = None
    ) -> Progress:
        """Poll until the job is complete; a failed job raises its error."""
        pacing = PollPacing()
        while True:
            progress = await self.get_progress(job_id)
            if on_progress is not None:
                on_progress(progress)
            if progress.complete:
                return progress
            await asyncio.sleep(pacing.next_delay(progress.retry_after))

    async def download(
        self, url: str, path: str | PathLike[str], on_bytes: ByteProgress | None = None
    ) -> Path:
        """Stream the report at `url` to `path`, resuming after a broken connection, or from
        what an earlier, interrupted run left in `path`.part."""
        part = PartFile(Path(path))
        budget = RetryBudget(self._retry)
        written = part.resume_point()
        while True:
            try:
                headers = request_headers(written, part.etag())
                request = self._http.stream("GET", url, headers=headers)
                async with request as response:
                    if response.status_code == httpx.codes.REQUESTED_RANGE_NOT_SATISFIABLE:
                        # An earlier run got the whole file but stopped before publishing it.
                        return await asyncio.to_thread(part.publish)
                    if response.status_code >= 300:
                        await response.aread()
                    written = body_start(response, written)
                    total = expected_total(response, written)
                    # Writing one chunk to the page cache is brief enough to stay in the loop.
                    with part.open_at(written, response.headers.get("etag")) as out:
                        # Chunks as they arrive (no re-chunking buffer): whatever was received
                        # before a cut is on disk, and the resume asks only for the rest.
                        async for chunk in response.aiter_raw():
                            out.write(chunk)
                            written += len(chunk)
                            budget.progressed()
                            if on_bytes is not None:
                                on_bytes(written, total)
                if total is None or written >= total:
                    # The ZIP check reads the whole archive: off the event loop.
                    return await asyncio.to_thread(part.publish)
                raise httpx.ReadError(f"body ended at byte {written} of {total}")
            except (httpx.TransportError, RawExportError) as error:
                await self._pause(budget.delay_for(error), error)

    async def export(
        self,
        app_id: str,
        start: Instant,
        end: Instant,
        events: Sequence[EventSpec] = (),
        *,
        directory: str | PathLike[str],
        report_format: str | None = None,
        continue_from: str | None = None,
        notify_url: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_bytes: ByteProgress | None = None,
    ) -> Report:
        """set_job, wait and download: the report archive lands in `directory`.

        A pipeline gives each export the `job_id` of the previous report as `continue_from`:
        every stored row of the window then arrives once, late ones included.
        """
        job_id = await self.set_job(
            app_id,
            start,
            end,
            events,
            report_format=report_format,
            continue_from=continue_from,
            notify_url=notify_url,
        )
        done = await self.wait(job_id, on_progress)
        if done.link is None:
            return Report(None, (), done.message, job_id, done.snapshot)
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        archive = await self.download(done.link.url, target / archive_name(job_id), on_bytes)
        made = partial(Report.from_archive, job_id=job_id, snapshot=done.snapshot)
        return await asyncio.to_thread(made, archive, done.message)

    async def _call(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        parse: Callable[[httpx.Response], T],
        budget: RetryBudget,
    ) -> T:
        """Send until the answer parses or its error is one not to retry."""
        while True:
            try:
                return parse(await send())
            except (httpx.TransportError, RawExportError) as error:
                await self._pause(budget.delay_for(error), error)

    async def _pause(self, delay: float, error: Exception) -> None:
        if self._on_retry is not None:
            self._on_retry(error, delay)
        await asyncio.sleep(delay)
