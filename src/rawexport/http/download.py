"""`download`: the report ZIP, with Range for resuming and the download cap (docs/api.md).

The report comes from the report store, so any API node serves any report, whichever machine
made it; one code path over `ReportObject` answers for every backend. Reading from the store
blocks (a file, an S3 GetObject), so the body is read on the thread pool, never on the loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from email.utils import formatdate

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rawexport.domain.errors import ApiError
from rawexport.domain.states import JobStatus
from rawexport.http.byte_ranges import ByteRange, RangeNotSatisfiable, requested_range
from rawexport.http.getprogress import job_id_of
from rawexport.http.params import Params, read_params
from rawexport.http.state import AppState, app_state
from rawexport.observability.metrics import download_served
from rawexport.reports import ReportObject

__all__ = ["download"]


async def download(request: Request) -> Response:
    state = app_state(request)
    params = await read_params(request, state.runtime.settings.max_body_bytes, form_fallback=True)
    served = await run_in_threadpool(_serve, state, params, request.method, request.headers)
    job_id, report, sent = served
    headers = _headers(job_id, report)
    if sent is None:
        headers["content-range"] = f"bytes */{report.size}"
        return Response(status_code=416, headers=headers)
    headers["content-length"] = str(sent.length)
    status = 200
    if sent.length != report.size:
        status = 206
        headers["content-range"] = f"bytes {sent.start}-{sent.end}/{report.size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    body = _in_threadpool(report.read(sent.start, sent.end))
    return StreamingResponse(body, status_code=status, headers=headers)


def _serve(
    state: AppState, params: Params, method: str, headers: Headers
) -> tuple[str, ReportObject, ByteRange | None]:
    """The job, its report and the bytes to send (None: 416); counts the download if it is one."""
    job_id, report = _authorise(state, params)
    validators = (report.etag, _http_date(report.last_modified))
    asked, if_range = headers.get("range"), headers.get("if-range")
    try:
        sent = requested_range(asked, if_range, report.size, validators)
    except RangeNotSatisfiable:
        return job_id, report, None
    # A new download sends the report from its first byte (no Range, a Range from 0, an If-Range
    # naming another version); a resume does not, and is neither counted nor capped.
    limit = state.runtime.settings.max_downloads
    whole = method == "GET" and sent.start == 0
    if whole and not state.runtime.jobs.register_download(job_id, limit):
        raise ApiError(
            14, {"file_id": job_id}, detail=f"The report may be downloaded at most {limit} times."
        )
    if whole:
        download_served()
    return job_id, report, sent


def _authorise(state: AppState, params: Params) -> tuple[str, ReportObject]:
    """The job id and report the token may download; the checks of docs/api.md in order."""
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
    key = job.report_key
    report = None if job.expired or key is None else rt.reports.open(key)
    if report is None:  # expired, or the sweeper deleted it since
        raise ApiError(21)
    return job.id, report


def _headers(job_id: str, report: ReportObject) -> dict[str, str]:
    return {
        "content-type": "application/zip",
        "content-disposition": f'attachment; filename="{job_id}.zip"',
        "accept-ranges": "bytes",
        "etag": report.etag,
        "last-modified": _http_date(report.last_modified),
    }


def _http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


async def _in_threadpool(chunks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """`chunks` read on the thread pool, and closed (its file or connection released) even when
    the client goes away before the end."""
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        await run_in_threadpool(chunks.close)
