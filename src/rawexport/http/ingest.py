"""`POST /api/v1/events` and `/api/v1/users`: loading through a running server.

The server owns the embedded event store, so while it runs new events and user cards arrive
here: the body is a file in JSON lines (or CSV, Parquet: `format=`), authorised by the app's
ingest key in `X-Ingest-Key`. Not part of the published API.
"""

from __future__ import annotations

import hmac
import shutil
import uuid
from functools import partial
from pathlib import Path

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from rawexport.domain.errors import ApiError, Code
from rawexport.domain.validation import storable
from rawexport.http.params import BodyTooLarge, limited_stream
from rawexport.http.state import AppState, app_state
from rawexport.observability import journal
from rawexport.store.leftovers import private_tempdir
from rawexport.store.loading import FILE_FORMATS, LeaseLapsed, LoadError, load_file

__all__ = ["ingest_events", "ingest_users"]

# Reversed so that each format keeps its first ending (jsonl: .jsonl).
ENDINGS = {fmt: ending for ending, fmt in reversed(FILE_FORMATS.items())}
"""The file ending an upload of each format is stored under, so the loader reads it right."""


_WRITE_BLOCK = 1 << 20


async def ingest_events(request: Request) -> JSONResponse:
    return await _ingest(request, users=False)


async def ingest_users(request: Request) -> JSONResponse:
    return await _ingest(request, users=True)


async def _ingest(request: Request, *, users: bool) -> JSONResponse:
    state = app_state(request)
    app_id = request.query_params.get("app_id")
    fmt = request.query_params.get("format", "jsonl")
    if not app_id:
        raise ApiError(Code.FIELD_NOT_FOUND, {"field": "app_id"})
    if fmt not in ENDINGS:
        raise ApiError(Code.UNKNOWN_FORMAT, {"format": fmt})
    if not await run_in_threadpool(_authorised, state, app_id, request.headers.get("x-ingest-key")):
        raise ApiError(Code.WRONG_TOKEN, {"token": "in X-Ingest-Key"})
    limit = state.runtime.settings.max_ingest_bytes
    source = Path(request.headers.get("x-source-name", f"upload{ENDINGS[fmt]}")).name
    # A retry of an upload whose answer was lost is skipped (see store/loading/batches.py).
    batch = request.headers.get("idempotency-key") or None
    force = request.query_params.get("force") == "1"
    # Named after this process, so that what a crash leaves is removed (see store/leftovers).
    workdir = await run_in_threadpool(private_tempdir, "upload")
    try:
        path = workdir / f"{uuid.uuid4().hex}{ENDINGS[fmt]}"
        try:
            await _receive(request, path, limit)
        except BodyTooLarge:
            raise ApiError(
                Code.MALFORMED_JSON, detail=f"The upload exceeds the limit of {limit} bytes."
            ) from None
        try:
            report = await run_in_threadpool(
                partial(
                    load_file,
                    ledger=state.runtime.batches,
                    users=users,
                    source_name=source,
                    force=force,
                    batch_id=batch,
                ),
                state.runtime.store,
                app_id,
                path,
            )
        except LoadError as exc:
            journal.load_rejected(app_id, source, str(exc))
            raise ApiError(Code.WRONG_TYPE, text=str(exc)) from None
        except LeaseLapsed as exc:  # nothing wrong with the upload: sending it again may do
            raise ApiError(Code.UNKNOWN, detail=str(exc)) from None
    finally:
        await run_in_threadpool(shutil.rmtree, workdir, ignore_errors=True)
    journal.loaded(app_id, source, users=users, rows=report.total)
    data = {"rows": report.rows, "total": report.total}
    if report.already_loaded_on is not None:
        data["already_loaded_on"] = report.already_loaded_on
    return JSONResponse({"status_code": 200, "data": data})


async def _receive(request: Request, path: Path, limit: int) -> None:
    """Write the body to `path`, in blocks of 1 MiB written by a worker thread: a disk that
    makes writers wait (dirty page throttling) must not stop the event loop."""
    async with await anyio.open_file(path, "wb") as out:
        block = bytearray()
        async for chunk in limited_stream(request, limit):
            block += chunk
            if len(block) >= _WRITE_BLOCK:
                await out.write(bytes(block))
                block.clear()
        await out.write(bytes(block))


def _authorised(state: AppState, app_id: str, key: str | None) -> bool:
    if not key or not storable(app_id):
        return False
    if hmac.compare_digest(key.encode(), state.admin_key.encode()):
        return state.runtime.accounts.app(app_id) is not None
    return state.runtime.accounts.check_ingest_key(app_id, key)
