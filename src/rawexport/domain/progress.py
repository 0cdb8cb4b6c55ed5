"""A job's `getprogress` answer: the one mapping of its state onto the published answers.

getprogress sends it to whoever polls, and a job's webhook (`notify_url`) posts the same answer
when the job ends, so the two can never tell a job's end differently.
"""

from __future__ import annotations

import math
from typing import Protocol
from urllib.parse import urlencode

from rawexport.domain.errors import ApiError, Code
from rawexport.domain.paths import DOWNLOAD_PATH
from rawexport.domain.states import JobStatus

__all__ = ["EMPTY_MESSAGE", "JobState", "download_url", "progress_answer", "progress_envelope"]

EMPTY_MESSAGE = (
    "Unfortunately the result of your request is empty. Please try to change the report conditions."
)


class JobState(Protocol):
    """What the answer is made of (a `meta.jobs.Job` is one)."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> JobStatus: ...
    @property
    def percent(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def empty(self) -> bool | None: ...
    @property
    def format(self) -> str: ...
    @property
    def ttl_s(self) -> int | None: ...
    @property
    def expires_at(self) -> float | None: ...
    @property
    def snapshot(self) -> int | None: ...
    @property
    def continue_from(self) -> str | None: ...


def download_url(base_url: str, job_id: str, token: str | None) -> str:
    """Where the job's report is downloaded; without a token the caller adds its own."""
    query = {"job_id": job_id} if token is None else {"job_id": job_id, "user_token": token}
    return f"{base_url.rstrip('/')}{DOWNLOAD_PATH}?{urlencode(query)}"


def progress_answer(job: JobState, url: str) -> tuple[int, dict[str, object]]:
    """The HTTP status and `data` of the job's answer; a failed job raises its ApiError (code 1).

    `url` is the report's download URL, used only when there is a report.
    """
    if job.status is JobStatus.PENDING:
        return 202, {"status": "pending", "percent_complete": 0}
    if job.status is JobStatus.RUNNING:
        return 200, {"status": "running", "percent_complete": job.percent}
    if job.status is JobStatus.FAILED:
        raise ApiError(Code.UNKNOWN, detail=f"The export job failed: {job.error}")
    if job.empty:
        # Only the published message, unless the request itself went beyond the published API.
        empty = {"msg": EMPTY_MESSAGE, **(_snapshot(job) if job.continue_from else {})}
        return 200, {"status": "complete", "percent_complete": 100, "result": empty}
    result = {
        "msg": "Report file is ready",
        "format": job.format,
        "url": url,
        "ttl": job.ttl_s,
        "expire": math.ceil(job.expires_at or 0),
        **_snapshot(job),
    }
    return 201, {"status": "complete", "percent_complete": 100, "result": result}


def _snapshot(job: JobState) -> dict[str, str]:
    """The job's snapshot for `continue_from` (extension): an opaque string to clients."""
    return {} if job.snapshot is None else {"snapshot": str(job.snapshot)}


def progress_envelope(job: JobState, url: str) -> dict[str, object]:
    """The whole JSON answer, in the success or the error envelope, as getprogress sends it."""
    try:
        status, data = progress_answer(job, url)
    except ApiError as failed:
        return failed.envelope()
    return {"status_code": status, "data": data}
