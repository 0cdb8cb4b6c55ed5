"""`getprogress`: a job's state in the published envelopes (docs/api.md)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from rawexport.domain.errors import ApiError, Code
from rawexport.domain.progress import download_url, progress_answer
from rawexport.domain.validation import json_type, storable
from rawexport.http.envelope import ok
from rawexport.http.params import Params, admitted, read_params
from rawexport.http.state import AppState, app_state
from rawexport.meta.progress_lookup import user_and_own_job

__all__ = ["getprogress", "job_id_of"]


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
    base_url = rt.settings.public_url or str(request.base_url)
    status, data = progress_answer(job, download_url(base_url, job.id, token))
    return ok(status, data)
