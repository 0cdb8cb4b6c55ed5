"""What `/docs` and `/openapi.json` say about each endpoint: bodies, answers and error codes.

The handlers read their bodies themselves (JSON whatever the Content-Type, a form as a fallback,
the published order of the checks), so the models of `openapi_models` reach the document through
`openapi_extra` and `responses=`, never as FastAPI body parameters that would validate (and
answer 422) before the handler runs. The error answers are made from `domain.errors`: each
endpoint names the codes it can give, and their HTTP statuses, messages and example envelopes
come from the one published table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from string import Formatter
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from rawexport.domain.errors import MESSAGES, ApiError, Code
from rawexport.domain.paths import DOWNLOAD_PATH
from rawexport.http.openapi_models import (
    EXAMPLE_JOB,
    REF,
    SCHEMAS,
    ErrorAnswer,
    LoadAnswer,
    ProgressAnswer,
    ProgressRequest,
    SetJobAnswer,
    SetJobRequest,
)

__all__ = [
    "DOWNLOAD",
    "GETPROGRESS",
    "INGEST_EVENTS",
    "INGEST_USERS",
    "SETJOB",
    "Endpoint",
    "install",
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], **extra: Any) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model), **extra}}


def _errors(codes: Iterable[Code]) -> dict[int | str, dict[str, Any]]:
    """One answer per HTTP status, listing its codes with their messages and an example each."""
    by_status: dict[int, list[Code]] = defaultdict(list)
    for code in codes:
        by_status[MESSAGES[code].status].append(code)
    answers: dict[int | str, dict[str, Any]] = {}
    for status, listed in sorted(by_status.items()):
        lines = [f"- {int(c)} `{c.name}`: {MESSAGES[c].template}" for c in listed]
        examples = {
            f"code_{int(c)}": {"summary": MESSAGES[c].template, "value": _example(c)}
            for c in listed
        }
        answers[status] = {
            "description": "Error codes:\n\n" + "\n".join(lines),
            "content": _json(ErrorAnswer, examples=examples),
        }
    return answers


def _example(code: Code) -> dict[str, object]:
    """The code's envelope, each blank of its message filled with the blank's name in capitals."""
    blanks = {name for _, name, _, _ in Formatter().parse(MESSAGES[code].template) if name}
    return ApiError(code, {name: name.upper() for name in blanks}).envelope()


_TOKEN_CODES = (Code.NO_TOKEN, Code.WRONG_TOKEN, Code.NO_API_ACCESS, Code.NO_RAW_EXPORT_ACCESS)


def _query(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": {"type": "string"},
        "description": description,
    }


_USER_TOKEN = _query("user_token", "The user's API token (or in the body).")
_JOB_ID = _query("job_id", "The id setjob answered (or in the body).")


class Endpoint:
    """The keyword arguments of one route's documentation: `openapi_extra` and `responses`."""

    def __init__(
        self,
        *,
        parameters: list[dict[str, Any]],
        codes: Iterable[Code],
        answers: dict[int | str, dict[str, Any]],
        request: dict[str, Any] | None = None,
    ) -> None:
        self.openapi_extra: dict[str, Any] = {"parameters": parameters}
        if request is not None:
            self.openapi_extra["requestBody"] = request
        self.responses: dict[int | str, dict[str, Any]] = {**answers, **_errors(codes)}
        self.codes = frozenset(codes)


SETJOB = Endpoint(
    parameters=[_USER_TOKEN],
    request={
        "required": True,
        "description": "Read as JSON whatever the Content-Type; at most `max_body_bytes`.",
        "content": {"application/json": {"schema": _ref(SetJobRequest)}},
    },
    answers={200: {"description": "The job is queued.", "content": _json(SetJobAnswer)}},
    codes=(
        Code.EMPTY_BODY,
        Code.MALFORMED_JSON,
        *_TOKEN_CODES,
        Code.FIELD_NOT_FOUND,
        Code.WRONG_TYPE,
        Code.INVALID_APP,
        Code.NO_APP_ACCESS,
        Code.UNKNOWN_FORMAT,
        Code.BAD_INTERVAL,
        Code.UNKNOWN_EVENT,
        Code.DUPLICATE_ALIAS,
        Code.JOB_INTERVAL,
        Code.CONCURRENT_JOBS,
        Code.USER_DAILY_QUOTA,
        Code.SPACE_DAILY_QUOTA,
        Code.UNKNOWN,
    ),
)


def _progress(status: int, description: str, data: dict[str, Any]) -> dict[str, Any]:
    example = {"status_code": status, "data": data}
    return {"description": description, "content": _json(ProgressAnswer, example=example)}


GETPROGRESS = Endpoint(
    parameters=[_USER_TOKEN, _JOB_ID],
    request={
        "required": False,
        "content": {
            "application/json": {"schema": _ref(ProgressRequest)},
            "application/x-www-form-urlencoded": {"schema": _ref(ProgressRequest)},
        },
    },
    answers={
        200: _progress(
            200,
            "Running (or complete with an empty result).",
            {"status": "running", "percent_complete": 40},
        ),
        201: _progress(
            201,
            "Complete: the report is ready.",
            {
                "status": "complete",
                "percent_complete": 100,
                "result": {
                    "msg": "Report file is ready",
                    "format": "csv",
                    "url": f"http://127.0.0.1:8000{DOWNLOAD_PATH}?job_id={EXAMPLE_JOB}",
                    "ttl": 86400,
                    "expire": 1764720000,
                },
            },
        ),
        202: _progress(
            202, "Pending: waiting for a worker.", {"status": "pending", "percent_complete": 0}
        ),
    },
    codes=(
        Code.MALFORMED_JSON,
        *_TOKEN_CODES,
        Code.FIELD_NOT_FOUND,
        Code.WRONG_TYPE,
        Code.JOB_NOT_FOUND,
        Code.UNKNOWN,
    ),
)

_ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}

DOWNLOAD = Endpoint(
    parameters=[
        _JOB_ID,
        _USER_TOKEN,
        {
            "name": "Range",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "`bytes=START-` resumes a broken download (not counted).",
        },
    ],
    answers={
        200: {"description": "The report ZIP.", "content": _ZIP},
        206: {"description": "The requested range of the report ZIP.", "content": _ZIP},
        416: {"description": "The range lies outside the report; no body."},
    },
    codes=(
        Code.MALFORMED_JSON,
        Code.NO_TOKEN,
        Code.WRONG_TOKEN,
        Code.FIELD_NOT_FOUND,
        Code.WRONG_TYPE,
        Code.JOB_NOT_FOUND,
        Code.NO_REPORT_ACCESS,
        Code.REPORT_EXPIRED,
        Code.UNKNOWN,
    ),
)


def _ingest(what: str) -> Endpoint:
    return Endpoint(
        parameters=[
            _query("app_id", "The app the rows belong to.", required=True),
            {
                "name": "format",
                "in": "query",
                "required": False,
                "schema": {"enum": ["jsonl", "csv", "parquet"], "default": "jsonl"},
            },
            {
                "name": "X-Ingest-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "The app's ingest key.",
            },
            {
                "name": "X-Source-Name",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The file name for error messages.",
            },
        ],
        request={
            "required": True,
            "description": f"A file of {what} in the chosen format; nothing is stored if a "
            "line is bad.",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        answers={200: {"description": "Stored.", "content": _json(LoadAnswer)}},
        codes=(
            Code.FIELD_NOT_FOUND,
            Code.UNKNOWN_FORMAT,
            Code.WRONG_TOKEN,
            Code.MALFORMED_JSON,
            Code.WRONG_TYPE,
            Code.UNKNOWN,
        ),
    )


INGEST_EVENTS = _ingest("events")
INGEST_USERS = _ingest("user cards")


def install(app: FastAPI) -> None:
    """Add the models' schemas to the app's document: `openapi_extra` and `responses` refer to
    them, and FastAPI adds only the schemas of models it validates with."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
