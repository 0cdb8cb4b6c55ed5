"""HTTP metrics: requests by route template, method and status, their latency, and `/metrics`.

A pure ASGI middleware rather than Starlette's `BaseHTTPMiddleware`: it adds a few microseconds
to a request that getprogress answers thousands of times a second, and it does not buffer
streamed downloads. The route is the template FastAPI matched (`/api/v1/rawexport/getprogress`),
never the raw path, which may hold a token; a path no route matched is counted as `unmatched`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rawexport.observability.exposition import exposition_registry
from rawexport.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

__all__ = ["RequestMetrics", "metrics_endpoint"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: the error went past every handler

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            # The router wrote the matched route into this same scope.
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)


def metrics_endpoint(engine: Callable[[], Engine]) -> Callable[[Request], Awaitable[Response]]:
    """The handler of the metrics path; the scrape reads the job table on the thread pool."""
    registry: CollectorRegistry = exposition_registry(engine)

    async def metrics(_: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
