"""What `/docs` and `/openapi.json` say about each endpoint: bodies, answers and error codes.

The models here describe the wire format only. The handlers read their bodies themselves (JSON
whatever the Content-Type, a form as a fallback, the published order of the checks), so the
models reach the document through `openapi_extra` and `responses=`, never as FastAPI body
parameters that would validate (and answer 422) before the handler runs. The error answers are
made from `domain.errors`: each endpoint names the codes it can give, and their HTTP statuses,
messages and example envelopes come from the one published table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from string import Formatter
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from rawexport.domain.errors import MESSAGES, ApiError, Code

__all__ = [
    "DOWNLOAD",
    "GETPROGRESS",
    "INGEST_EVENTS",
    "INGEST_USERS",
    "SCHEMAS",
    "SETJOB",
    "Endpoint",
    "install",
]

_REF = "#/components/schemas/{model}"
_EXAMPLE_APP = "af0606ed-bbdc-065a-952c-0d92561f107c"
_EXAMPLE_JOB = "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


class Conditions(BaseModel):
    """Conditions on one parameter; all must hold. No operator: the parameter is present."""

    gt: float | str | None = None
    lt: float | str | None = None
    gte: float | str | None = None
    lte: float | str | None = None
    eq: float | str | bool | list[float | str | bool] | None = Field(
        None, description="Equal; with a list: one of the values."
    )
    neq: float | str | bool | list[float | str | bool] | None = Field(
        None, description="Not equal; with a list: none of the values."
    )


class CustomEvent(BaseModel):
    """A custom event, filtered on its parameters, written to `ALIAS.csv`."""

    name: str
    alias: str | None = Field(None, description="The file name (default: the event's name).")
    filters: dict[str, Conditions] | None = None


class SetJobRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "app_id": _EXAMPLE_APP,
                    "start_date": 1764028800,
                    "end_date": 1764633600,
                    "events": [
                        "rp",
                        {"name": "levelComplete", "filters": {"difficulty": {"gt": 5}}},
                    ],
                }
            ]
        }
    )

    user_token: str | None = Field(None, description="The token, when not in the query string.")
    app_id: str = Field(description="The app to export.")
    start_date: float = Field(description="UNIX seconds, UTC: the first second of the window.")
    end_date: float = Field(description="UNIX seconds, UTC: the window ends before it.")
    events: list[str | CustomEvent] | None = Field(
        None,
        description="Standard event ids, `sbs_payments`, `@basic_events`, `@custom_events`, "
        "custom event names or filtered custom events; empty or absent: every event.",
    )
    format: Literal["csv", "jsonl", "parquet"] = Field("csv", description="Extension.")
    users_filter: dict[str, Conditions] | None = Field(
        None, description="Extension: only events of users whose card matches, by users.csv column."
    )


class ProgressRequest(BaseModel):
    """The POST form of getprogress (a JSON or form body); GET takes the query string."""

    user_token: str | None = Field(None, description="The token, when not in the query string.")
    job_id: str | None = Field(None, description="The id setjob answered.")


class SetJobAnswer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status_code": 200, "data": _EXAMPLE_JOB}]}
    )

    status_code: Literal[200]
    data: str = Field(description="The job's id.")


class ReportResult(BaseModel):
    msg: str = Field(description="`Report file is ready`, or the message of an empty result.")
    format: Literal["csv", "jsonl", "parquet"] | None = None
    url: str | None = Field(None, description="Where to download the report.")
    ttl: int | None = Field(None, description="The report's lifetime in seconds.")
    expire: int | None = Field(None, description="UNIX seconds when the report is deleted.")


class Progress(BaseModel):
    status: Literal["pending", "running", "complete"]
    percent_complete: int = Field(ge=0, le=100)
    result: ReportResult | None = Field(None, description="Only once complete.")


class ProgressAnswer(BaseModel):
    status_code: Literal[200, 201, 202]
    data: Progress


class Loaded(BaseModel):
    rows: dict[str, int] = Field(description="Rows stored per event (or `users`).")
    total: int


class LoadAnswer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status_code": 200, "data": {"rows": {"rg": 1, "tr": 3}, "total": 4}}]
        }
    )

    status_code: Literal[200]
    data: Loaded


class ErrorEntry(BaseModel):
    code: int = Field(description="One of the published error codes.")
    msg: str


class ErrorAnswer(BaseModel):
    status_code: int = Field(description="Equal to the HTTP status.")
    errors: list[ErrorEntry] = Field(min_length=1, max_length=1)


_MODELS: tuple[type[BaseModel], ...] = (
    SetJobRequest,
    ProgressRequest,
    SetJobAnswer,
    ProgressAnswer,
    LoadAnswer,
    ErrorAnswer,
)
_, _DEFS = models_json_schema([(m, "validation") for m in _MODELS], ref_template=_REF)
SCHEMAS: dict[str, Any] = _DEFS["$defs"]
"""Every model's JSON schema, for the document's `components/schemas`."""


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


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
                    "url": f"http://127.0.0.1:8000/api/v1/rawexport/download/?job_id={_EXAMPLE_JOB}",
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
