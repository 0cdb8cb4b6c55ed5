"""`getprogress`: a job's state in the published envelopes (docs/api.md)."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from rawexport.domain.errors import ApiError, Code
from rawexport.domain.states import JobStatus
from rawexport.domain.validation import json_type, storable
from rawexport.http.envelope import ok
from rawexport.http.params import Params, admitted, read_params
from rawexport.http.state import AppState, app_state
from rawexport.meta.jobs import Job
from rawexport.meta.progress_lookup import user_and_own_job

__all__ = ["EMPTY_MESSAGE", "getprogress", "job_id_of"]

EMPTY_MESSAGE = (
    "Unfortunately the result of your request is empty. Please try to change the report conditions."
)


async def getprogress(request: Request) -> JSONResponse:
    state = app_state(request)
    params = await read_params(request, state.runtime.settings.max_body_bytes, form_fallback=True)
    if state.runtime.engine.dialect.name == "sqlite":
        # One indexed read of a WAL snapshot never waits for a lock and costs less than the
        # hop to a worker thread; a database across the network is read from a worker thread.
        return _progress(state, params, request)
    return await run_in_threadpool(_progress, state, params, request)


def job_id_of(params: Params) -> str:
    job_id = params.get("job_id")
    if job_id is None:
        raise ApiError(Code.FIELD_NOT_FOUND, {"field": "job_id"})
    if not isinstance(job_id, str):
        raise ApiError(
            Code.WRONG_TYPE,
            {"field": "job_id", "received": json_type(job_id), "expected": "string"},
        )
    if not storable(job_id):
        raise ApiError(Code.JOB_NOT_FOUND)
    return job_id


def _progress(state: AppState, params: Params, request: Request) -> JSONResponse:
    rt = state.runtime
    token = params.token()
    try:
        job_id = job_id_of(params)
    except ApiError:
        admitted(user_and_own_job(rt.engine, token, "")[0], token)  # a token error comes first
        raise
    user, job = user_and_own_job(rt.engine, token, job_id)
    admitted(user, token)
    if job is None or job.expired:
        raise ApiError(Code.JOB_NOT_FOUND)
    if job.status is JobStatus.PENDING:
        return ok(202, {"status": "pending", "percent_complete": 0})
    if job.status is JobStatus.RUNNING:
        return ok(200, {"status": "running", "percent_complete": job.percent})
    if job.status is JobStatus.FAILED:
        raise ApiError(Code.UNKNOWN, detail=f"The export job failed: {job.error}")
    if job.empty:
        # Only the published message, unless the request itself went beyond the published API.
        empty = {"msg": EMPTY_MESSAGE, **(_snapshot(job) if job.spec.continue_from else {})}
        return ok(200, {"status": "complete", "percent_complete": 100, "result": empty})
    query = urlencode({"job_id": job.id, "user_token": token})
    base_url = rt.settings.public_url or str(request.base_url)
    result = {
        "msg": "Report file is ready",
        "format": job.format,
        "url": f"{base_url.rstrip('/')}/api/v1/rawexport/download/?{query}",
        "ttl": job.ttl_s,
        "expire": math.ceil(job.expires_at or 0),
        **_snapshot(job),
    }
    return ok(201, {"status": "complete", "percent_complete": 100, "result": result})


def _snapshot(job: Job) -> dict[str, str]:
    """The job's snapshot for `continue_from` (extension): an opaque string to clients."""
    return {} if job.snapshot is None else {"snapshot": str(job.snapshot)}
