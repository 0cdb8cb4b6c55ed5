"""The ASGI application: routes, the error envelope for every failure, the workers' lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from rawexport import __version__
from rawexport.domain.errors import ApiError, Code
from rawexport.domain.paths import API_PREFIX, DOWNLOAD_PATH, LOADING_PREFIX
from rawexport.http import openapi
from rawexport.http.download import download
from rawexport.http.envelope import error_response, ok
from rawexport.http.getprogress import getprogress
from rawexport.http.ingest import ingest_events, ingest_users
from rawexport.http.metrics import RequestMetrics, metrics_endpoint
from rawexport.http.openapi import (
    DOWNLOAD,
    GETPROGRESS,
    INGEST_EVENTS,
    INGEST_USERS,
    SETJOB,
    Endpoint,
)
from rawexport.http.setjob import setjob
from rawexport.http.state import AppState
from rawexport.runtime import Runtime

__all__ = ["create_app"]

log = logging.getLogger("rawexport.http")


def create_app(
    runtime: Runtime,
    *,
    admin_key: str,
    start_workers: Callable[[], Callable[[], None]] | None = None,
    notify_workers: Callable[[], None] = lambda: None,
) -> FastAPI:
    """`start_workers` starts the export workers and returns the function that stops them."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = start_workers() if start_workers else None
        try:
            yield
        finally:
            if stop:
                stop()

    # The docs page serves Swagger UI from the package: a machine without internet still shows it.
    app = FastAPIOffline(
        title="rawexport",
        version=__version__,
        summary="A self-hosted devtodev RAW export API: setjob, getprogress, download.",
        lifespan=lifespan,
    )
    app.state.rawexport = AppState(runtime, notify_workers, admin_key)

    def route(
        path: str,
        endpoint: Callable[..., Any],
        methods: list[str],
        summary: str,
        docs: Endpoint | None = None,
    ) -> None:
        # One route per method: OpenAPI needs an operation id per method, and FastAPI gives a
        # route with several methods one id for all of them. `Response`: the handlers answer
        # themselves, so FastAPI adds no JSON schema of its own to the documented answers.
        for method in methods:
            app.add_api_route(
                path,
                endpoint,
                methods=[method],
                operation_id=f"{endpoint.__name__}_{method.lower()}",
                summary=summary,
                response_class=Response,
                openapi_extra=docs.openapi_extra if docs else None,
                responses=docs.responses if docs else None,
            )

    route(
        f"{API_PREFIX}/setjob",
        setjob,
        ["POST"],
        "Assign an export job",
        SETJOB,
    )
    # Clients poll getprogress: it is served by a plain Starlette route, without FastAPI's
    # per-request dependency solving (a tenth of a poll's CPU); the routes below, which it
    # shadows, document it.
    progress_path, progress_methods = f"{API_PREFIX}/getprogress", ["GET", "POST"]
    app.router.routes.append(_PlainRoute(progress_path, getprogress, progress_methods))
    route(progress_path, getprogress, progress_methods, "A job's status", GETPROGRESS)
    route(
        DOWNLOAD_PATH,
        download,
        ["GET", "HEAD"],
        "Download the report ZIP",
        DOWNLOAD,
    )
    app.add_api_route(
        DOWNLOAD_PATH.rstrip("/"), download, methods=["GET", "HEAD"], include_in_schema=False
    )
    route(
        f"{LOADING_PREFIX}/events",
        ingest_events,
        ["POST"],
        "Load events (JSON lines) into a running server",
        INGEST_EVENTS,
    )
    route(
        f"{LOADING_PREFIX}/users",
        ingest_users,
        ["POST"],
        "Load user cards (JSON lines) into a running server",
        INGEST_USERS,
    )
    route("/healthz", healthz, ["GET"], "Liveness probe")
    metrics_route = runtime.settings.metrics_route
    if metrics_route is not None:
        app.add_route(
            metrics_route, metrics_endpoint(lambda: runtime.engine), include_in_schema=False
        )
        app.add_middleware(RequestMetrics)

    openapi.install(app)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _routing_error)
    app.add_exception_handler(Exception, _unexpected)
    return app


class _PlainRoute(Route):
    """A Starlette route that answers only its own methods (Starlette would add HEAD to GET) and
    names itself in the scope, as FastAPI's routes do, for the metrics' route label."""

    def __init__(self, path: str, endpoint: Callable[..., Any], methods: list[str]) -> None:
        super().__init__(path, endpoint, methods=methods, include_in_schema=False)
        self.methods = set(methods)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


async def healthz() -> Response:
    return ok(200, {"status": "ok"})


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _routing_error(request: Request, exc: Exception) -> Response:
    """An unknown path (404) or method (405): the published table has no code for these, so
    they keep their HTTP status and carry code 1 in the same envelope as every other answer."""
    assert isinstance(exc, HTTPException)
    detail = f"{request.method} {request.url.path}: {exc.detail}."
    response = error_response(ApiError(Code.UNKNOWN, detail=detail, http_status=exc.status_code))
    if exc.status_code == 405:  # each method is a route of its own: Allow names them all
        response.headers["Allow"] = ", ".join(_methods_of(request.app, request.url.path))
    return response


def _methods_of(app: FastAPI, path: str) -> list[str]:
    routes = [r for r in app.routes if isinstance(r, Route) and r.path_regex.fullmatch(path)]
    return sorted({method for r in routes for method in r.methods or ()})


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The path only: the query may hold a token.
    log.error("unexpected failure on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ApiError(Code.UNKNOWN))
