"""The service around the API: health probe, OpenAPI and its docs page, unknown failures."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer


def test_healthz(shared_server: LiveServer) -> None:
    assert httpx.get(f"{shared_server.url}/healthz").json() == {"status": "ok"}


def test_openapi_lists_the_endpoints_and_docs_need_no_internet(
    shared_server: LiveServer,
) -> None:
    paths = httpx.get(f"{shared_server.url}/openapi.json").json()["paths"]
    for name in ("setjob", "getprogress", "download/"):
        assert f"/api/v1/rawexport/{name}" in paths
    assert "/api/v1/events" in paths
    page = httpx.get(f"{shared_server.url}/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "https://" not in page.text
