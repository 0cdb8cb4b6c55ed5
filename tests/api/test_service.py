"""The service around the API: health probe, OpenAPI and its docs page, every answer enveloped."""

from __future__ import annotations

import pytest

from tests.api.conftest import Service

API = "/api/v1/rawexport"


def test_healthz(shared_service: Service) -> None:
    answer = shared_service.client.get("/healthz")
    assert answer.json() == {"status_code": 200, "data": {"status": "ok"}}


def test_openapi_lists_the_endpoints_and_docs_need_no_internet(shared_service: Service) -> None:
    paths = shared_service.client.get("/openapi.json").json()["paths"]
    for name in ("setjob", "getprogress", "download/"):
        assert f"{API}/{name}" in paths
    assert "/api/v1/events" in paths
    page = shared_service.client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "https://" not in page.text


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("PUT", f"{API}/setjob", 405, "POST"),
        ("DELETE", f"{API}/getprogress", 405, "GET, POST"),
        ("POST", f"{API}/download/", 405, "GET, HEAD"),
        ("GET", f"{API}/nothing-here", 404, None),
        ("GET", "/", 404, None),
    ],
)
def test_unknown_paths_and_methods_answer_in_the_envelope(
    shared_service: Service, method: str, path: str, status: int, allow: str | None
) -> None:
    answer = shared_service.client.request(method, path)
    assert answer.status_code == status
    body = answer.json()
    assert body["status_code"] == status
    (error,) = body["errors"]
    assert error["code"] == 1
    assert error["msg"].startswith(f"Unknown Error {method} {path}:")
    assert answer.headers.get("allow") == allow
