"""`download`: the report ZIP, with Range for resuming and the download cap."""

from __future__ import annotations

import os
import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
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
    return await run_in_threadpool(_serve, state, params, request.method, request.headers)


def _serve(state: AppState, params: Params, method: str, headers: Headers) -> FileResponse:
    job_id, path = _authorise(state, params)
    try:
        stat = os.stat(path)
    except FileNotFoundError:  # the sweeper deleted it since
        raise ApiError(21) from None
    response = FileResponse(
        path, media_type="application/zip", filename=f"{job_id}.zip", stat_result=stat
    )
    limit = state.runtime.settings.max_downloads
    whole = method == "GET" and _sends_whole_file(headers, response)
    if whole and not state.runtime.jobs.register_download(job_id, limit):
        raise ApiError(
            14, {"file_id": job_id}, detail=f"The report may be downloaded at most {limit} times."
        )
    return response


def _sends_whole_file(headers: Headers, response: FileResponse) -> bool:
    """Whether the answer is the whole report, a new download (a resume is not one).

    It is when there is no Range, or one from byte 0, or an If-Range naming another file (then
    the Range is ignored).
    """
    if_range = headers.get("if-range")
    if if_range is not None and if_range not in (
        response.headers["etag"],
        response.headers["last-modified"],
    ):
        return True
    range_header = headers.get("range")
    if range_header is None:
        return True
    match = _RANGE_START.match(range_header)
    return match is None or int(match.group(1) or 0) == 0


def _authorise(state: AppState, params: Params) -> tuple[str, str]:
    """The job id and report path the token may download; the checks of docs/api.md in order."""
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
    path = None if job.report_key is None else str(rt.settings.reports_dir / job.report_key)
    if job.expired or path is None or not os.path.exists(path):
        raise ApiError(21)
    return job.id, path
