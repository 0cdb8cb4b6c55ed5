"""A synchronous httpx client for an ASGI app: tests stay plain functions, the app keeps its loop.

`httpx.ASGITransport` is asynchronous only; this transport hands each request to it on the loop
of an anyio blocking portal, where the app also ran its lifespan.
"""

from __future__ import annotations

import httpx
from anyio.from_thread import BlockingPortal
from starlette.types import ASGIApp

__all__ = ["PortalTransport"]


class PortalTransport(httpx.BaseTransport):
    """A synchronous transport that hands each request to `httpx.ASGITransport` on the portal's
    loop; an unexpected failure comes back as the app's 500, as a client would see it."""

    def __init__(self, portal: BlockingPortal, app: ASGIApp) -> None:
        self._portal = portal
        self._asgi = httpx.ASGITransport(app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )

        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(forwarded)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(send)
