"""`Client`: set a job, wait for it, download its report — with retries done right."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
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

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """A client of the RAW export API at `base_url` (the server root, e.g.
    https://devtodev.com, or the API's own https://devtodev.com/api/v1/rawexport) for the user
    who owns `token`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryNotice | None = None,
    ):
        self._token = token
        self._retry = retry or RetryPolicy()
        self._on_retry = on_retry
        self._http = httpx.Client(
            base_url=protocol.api_url(base_url),
            transport=transport,
            timeout=timeout,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def set_job(
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
        return self._call(send, protocol.parse_job_id, budget)

    def get_progress(self, job_id: str) -> Progress:
        body = {"user_token": self._token, "job_id": job_id}
        send = partial(self._http.post, "getprogress", json=body)
        return self._call(send, protocol.parse_progress, RetryBudget(self._retry))

    def wait(self, job_id: str, on_progress: Callable[[Progress], None] | None = None) -> Progress:
        """Poll until the job is complete; a failed job raises its error."""
        pacing = PollPacing()
        while True:
            progress = self.get_progress(job_id)
            if on_progress is not None:
                on_progress(progress)
            if progress.complete:
                return progress
            time.sleep(pacing.next_delay(progress.retry_after))

    def download(
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
                with self._http.stream("GET", url, headers=headers) as response:
                    if response.status_code == httpx.codes.REQUESTED_RANGE_NOT_SATISFIABLE:
                        # An earlier run got the whole file but stopped before publishing it.
                        return part.publish()
                    if response.status_code >= 300:
                        response.read()
                    written = body_start(response, written)
                    total = expected_total(response, written)
                    with part.open_at(written, response.headers.get("etag")) as out:
                        # Chunks as they arrive (no re-chunking buffer): whatever was received
                        # before a cut is on disk, and the resume asks only for the rest.
                        for chunk in response.iter_raw():
                            out.write(chunk)
                            written += len(chunk)
                            budget.progressed()
                            if on_bytes is not None:
                                on_bytes(written, total)
                if total is None or written >= total:
                    return part.publish()
                raise httpx.ReadError(f"body ended at byte {written} of {total}")
            except (httpx.TransportError, RawExportError) as error:
                self._pause(budget.delay_for(error), error)

    def export(
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
        job_id = self.set_job(
            app_id,
            start,
            end,
            events,
            report_format=report_format,
            continue_from=continue_from,
            notify_url=notify_url,
        )
        done = self.wait(job_id, on_progress)
        if done.link is None:
            return Report(None, (), done.message, job_id, done.snapshot)
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        archive = self.download(done.link.url, target / archive_name(job_id), on_bytes)
        return Report.from_archive(archive, done.message, job_id=job_id, snapshot=done.snapshot)

    def _call(
        self,
        send: Callable[[], httpx.Response],
        parse: Callable[[httpx.Response], T],
        budget: RetryBudget,
    ) -> T:
        """Send until the answer parses or its error is one not to retry."""
        while True:
            try:
                return parse(send())
            except (httpx.TransportError, RawExportError) as error:
                self._pause(budget.delay_for(error), error)

    def _pause(self, delay: float, error: Exception) -> None:
        if self._on_retry is not None:
            self._on_retry(error, delay)
        time.sleep(delay)
