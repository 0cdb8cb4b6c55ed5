"""The wire format of the API as pydantic models, for the OpenAPI document only.

The handlers never validate with these: they read bodies themselves, in the published order of
the checks (docs/api.md). The models say what a body and an answer look like, with examples.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

__all__ = [
    "EXAMPLE_JOB",
    "REF",
    "SCHEMAS",
    "ErrorAnswer",
    "LoadAnswer",
    "ProgressAnswer",
    "ProgressRequest",
    "SetJobAnswer",
    "SetJobRequest",
]

REF = "#/components/schemas/{model}"
"""Where the document keeps each model's schema."""

EXAMPLE_APP = "af0606ed-bbdc-065a-952c-0d92561f107c"
EXAMPLE_JOB = "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


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
                    "app_id": EXAMPLE_APP,
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
    notify_url: str | None = Field(
        None,
        description="Extension: where the job's getprogress answer is POSTed when it ends, signed "
        "(`X-Rawexport-Signature`); only hosts the operator allows.",
    )
    continue_from: str | None = Field(
        None,
        description="Extension: the id of an earlier complete job of the same user and app; "
        "only rows stored after its snapshot are exported (every stored row once along a chain).",
    )


class ProgressRequest(BaseModel):
    """The POST form of getprogress (a JSON or form body); GET takes the query string."""

    user_token: str | None = Field(None, description="The token, when not in the query string.")
    job_id: str | None = Field(None, description="The id setjob answered.")


class SetJobAnswer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status_code": 200, "data": EXAMPLE_JOB}]}
    )

    status_code: Literal[200]
    data: str = Field(description="The job's id.")


class ReportResult(BaseModel):
    msg: str = Field(description="`Report file is ready`, or the message of an empty result.")
    format: Literal["csv", "jsonl", "parquet"] | None = None
    url: str | None = Field(None, description="Where to download the report.")
    ttl: int | None = Field(None, description="The report's lifetime in seconds.")
    expire: int | None = Field(None, description="UNIX seconds when the report is deleted.")
    snapshot: str | None = Field(
        None, description="Extension: the stored rows the job exported, for `continue_from`."
    )


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
_, _DEFS = models_json_schema([(m, "validation") for m in _MODELS], ref_template=REF)
SCHEMAS: dict[str, Any] = _DEFS["$defs"]
"""Every model's JSON schema, for the document's `components/schemas`."""
