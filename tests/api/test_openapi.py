"""The OpenAPI document: built without a warning, every body and answer described, every error
code documented one that `domain.errors` publishes, with its HTTP status."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from rawexport.domain.errors import MESSAGES, Code
from rawexport.http.app import create_app
from rawexport.runtime import Runtime
from rawexport.settings import Settings
from tests.api.conftest import Service

SETJOB = "/api/v1/rawexport/setjob"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(Runtime(Settings.load({}, env={})), admin_key="")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built: dict[str, Any] = app.openapi()
    return built


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref: str | None = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = document
    for part in ref.removeprefix("#/").split("/"):
        resolved = resolved[part]
    return resolved


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in document["paths"].values() for op in path.values()]


def error_examples(answer: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = answer.get("content", {}).get("application/json", {})
    examples: dict[str, Any] = media.get("examples", {})
    return examples


def test_setjob_request_names_its_fields(document: dict[str, Any]) -> None:
    body = document["paths"][SETJOB]["post"]["requestBody"]["content"]["application/json"]
    schema = resolve(document, body["schema"])
    assert {"app_id", "start_date", "end_date", "events"} <= set(schema["properties"])
    assert set(schema["required"]) == {"app_id", "start_date", "end_date"}
    assert schema["examples"][0]["app_id"]


def test_answers_are_models_not_strings(document: dict[str, Any]) -> None:
    progress = document["paths"]["/api/v1/rawexport/getprogress"]["get"]["responses"]
    assert set(progress) >= {"200", "201", "202"}
    schema = resolve(document, progress["201"]["content"]["application/json"]["schema"])
    data = resolve(document, schema["properties"]["data"])
    assert {"status", "percent_complete", "result"} <= set(data["properties"])
    download = document["paths"]["/api/v1/rawexport/download/"]["get"]["responses"]
    assert download["200"]["content"]["application/zip"]["schema"]["format"] == "binary"


def test_every_documented_error_code_is_published_with_its_status(
    document: dict[str, Any],
) -> None:
    documented = 0
    for operation in operations(document):
        for status, answer in operation["responses"].items():
            for name, example in error_examples(answer).items():
                (error,) = example["value"]["errors"]
                code = Code(error["code"])  # raises for a code the table does not have
                assert name == f"code_{int(code)}"
                assert MESSAGES[code].status == int(status) == example["value"]["status_code"]
                assert f"- {int(code)} `{code.name}`" in answer["description"]
                documented += 1
    assert documented > 40


def test_setjob_documents_every_code_of_its_checks(document: dict[str, Any]) -> None:
    answers = document["paths"][SETJOB]["post"]["responses"]
    codes = {
        example["value"]["errors"][0]["code"]
        for answer in answers.values()
        for example in error_examples(answer).values()
    }
    not_setjob = {Code.NO_REPORT_ACCESS, Code.REPORT_EXPIRED, Code.JOB_NOT_FOUND}
    assert codes == set(Code) - not_setjob


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for op in operations(document)]
    assert len(ids) == len(set(ids))


def test_docs_page_is_served_offline(shared_service: Service) -> None:
    page = shared_service.client.get("/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr" not in page.text and "unpkg.com" not in page.text
    served = shared_service.client.get("/openapi.json")
    assert served.status_code == 200
    assert "SetJobRequest" in served.json()["components"]["schemas"]
