"""`setjob`: validate an export request in the order of docs/api.md and queue it."""

from __future__ import annotations

import time
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from rawexport.domain.errors import ApiError, Code
from rawexport.domain.validation import build_spec, check_fields, storable
from rawexport.http.continuation import continued_snapshot
from rawexport.http.envelope import ok
from rawexport.http.params import Params, authenticate, read_params
from rawexport.http.state import AppState, app_state
from rawexport.observability import journal, metrics
from rawexport.store import known_custom_events

__all__ = ["setjob"]


async def setjob(request: Request) -> JSONResponse:
    state = app_state(request)
    params = await read_params(request, state.runtime.settings.max_body_bytes, form_fallback=False)
    if not params.raw_body.strip():
        raise ApiError(Code.EMPTY_BODY)
    if params.not_an_object:
        raise ApiError(Code.MALFORMED_JSON)
    job_id = await run_in_threadpool(_assign, state, params, str(request.base_url))
    state.notify_workers()
    return ok(200, job_id)


def _assign(state: AppState, params: Params, base_url: str) -> str:
    rt = state.runtime
    user = authenticate(rt.accounts, params)
    body = params.body
    check_fields(body, max_events=rt.settings.max_events, webhook_hosts=rt.webhook_hosts)
    after_snapshot = continued_snapshot(rt.jobs, user, body)  # code 5 like the checks above
    app = rt.accounts.app(body["app_id"]) if storable(body["app_id"]) else None
    if app is None:
        raise ApiError(Code.INVALID_APP, {"app_id": body["app_id"]})
    if not rt.accounts.has_grant(user.id, app.id):
        raise ApiError(Code.NO_APP_ACCESS, {"app_id": app.id})
    spec = build_spec(
        body,
        now=time.time(),
        retention_days=rt.settings.retention_days,
        custom_events=lambda names: known_custom_events(rt.store, app.id, names),
    )
    if spec.notify_url is not None:  # the notification's report url, as getprogress would say
        spec = replace(spec, base_url=rt.settings.public_url or base_url)
    spec = replace(spec, after_snapshot=after_snapshot)
    try:
        job_id = rt.jobs.submit(user, spec, rt.limits)
    except ApiError as refusal:  # submit refuses with a limit's code only
        metrics.quota_refused(refusal.code)
        raise
    journal.job_accepted(job_id, user_id=user.id, space_id=user.space_id, app_id=app.id)
    return job_id
