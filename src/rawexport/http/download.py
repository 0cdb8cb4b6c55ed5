"""`download`: the report ZIP, with Range for resuming and the download cap (contract §7)."""

from __future__ import annotations

import os
import re
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from rawexport.domain.errors import ApiError
from rawexport.domain.states import JobStatus
from rawexport.http.getprogress import job_id_of
from rawexport.http.params import Params, read_params
from rawexport.http.state import AppState, app_state

__all__ = ["download"]

_RANGE_START = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-")


async def download(request: Request) -> Response:
    state = app_state(request)
    params = await read_params(request, state.runtime.settings.max_body_bytes, form_fallback=True)
    counted = request.method == "GET" and _starts_at_zero(request.headers.get("range"))
    path, job_id = await run_in_threadpool(_authorise, state, params, counted)
    return FileResponse(path, media_type="application/zip", filename=f"{job_id}.zip")


def _starts_at_zero(range_header: str | None) -> bool:
    """A ranged request that resumes (does not start at byte 0) is not a new download."""
    if range_header is None:
        return True
    match = _RANGE_START.match(range_header)
    return match is None or int(match.group(1) or 0) == 0


def _authorise(state: AppState, params: Params, counted: bool) -> tuple[str, str]:
    rt = state.runtime
    token = params.token()
    user = rt.accounts.user_by_token(token)
    if user is None:
        raise ApiError(11, {"token": token})
    job = rt.jobs.get(job_id_of(params))
    if job is None or job.status is not JobStatus.COMPLETE or job.empty:
        raise ApiError(22)
    if job.user_id != user.id or not rt.accounts.has_grant(user.id, job.app_id):
        raise ApiError(14, {"file_id": job.id})
    path = job.report_path
    expired = job.expires_at is not None and time.time() >= job.expires_at
    if expired or path is None or not os.path.exists(path):
        raise ApiError(21)
    limit = rt.settings.max_downloads
    if counted and not rt.jobs.register_download(job.id, limit):
        raise ApiError(
            14, {"file_id": job.id}, detail=f"The report may be downloaded at most {limit} times."
        )
    return path, job.id
