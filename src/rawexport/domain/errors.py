"""The published error codes of the RAW export API, each with its HTTP status and message."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

__all__ = ["ApiError", "Code", "ErrorCode", "MESSAGES"]


class Code(IntEnum):
    """The published codes by name; an `int`, so a code compares equal to its number."""

    UNKNOWN = 1
    EMPTY_BODY = 2
    MALFORMED_JSON = 3
    FIELD_NOT_FOUND = 4
    WRONG_TYPE = 5
    INVALID_APP = 6
    UNKNOWN_FORMAT = 7
    UNKNOWN_EVENT = 8
    DUPLICATE_ALIAS = 9
    BAD_INTERVAL = 10
    WRONG_TOKEN = 11
    NO_TOKEN = 12
    NO_APP_ACCESS = 13
    NO_REPORT_ACCESS = 14
    NO_API_ACCESS = 15
    NO_RAW_EXPORT_ACCESS = 16
    CONCURRENT_JOBS = 17
    USER_DAILY_QUOTA = 18
    SPACE_DAILY_QUOTA = 19
    JOB_INTERVAL = 20
    REPORT_EXPIRED = 21
    JOB_NOT_FOUND = 22


@dataclass(frozen=True)
class ErrorCode:
    code: Code
    status: int
    template: str


_TABLE = (
    ErrorCode(Code.UNKNOWN, 500, "Unknown Error"),
    ErrorCode(Code.EMPTY_BODY, 400, "Request body is empty"),
    ErrorCode(Code.MALFORMED_JSON, 400, "Malformed json"),
    ErrorCode(Code.FIELD_NOT_FOUND, 400, "Field not found: {field}"),
    ErrorCode(Code.WRONG_TYPE, 400, "Field {field} has type {received} but {expected} expected"),
    ErrorCode(Code.INVALID_APP, 400, "Invalid app id {app_id}"),
    ErrorCode(Code.UNKNOWN_FORMAT, 400, "Unknown format: {format}"),
    ErrorCode(Code.UNKNOWN_EVENT, 400, "Unknown event: {event}"),
    ErrorCode(Code.DUPLICATE_ALIAS, 400, "Event alias duplicated: {alias}"),
    ErrorCode(
        Code.BAD_INTERVAL,
        400,
        "Incorrect report time frame interval: start_date and end_date can not be earlier "
        "than {days} days from now.",
    ),
    ErrorCode(Code.WRONG_TOKEN, 401, "Authorization error. Wrong user token {token}"),
    ErrorCode(Code.NO_TOKEN, 401, "Authorization error. User_token is not set."),
    ErrorCode(Code.NO_APP_ACCESS, 403, "Access denied. You have no access to the app {app_id}"),
    ErrorCode(
        Code.NO_REPORT_ACCESS,
        403,
        "Access denied. You have no access to the report file {file_id}",
    ),
    ErrorCode(Code.NO_API_ACCESS, 403, "Access denied. You have no access to API."),
    ErrorCode(
        Code.NO_RAW_EXPORT_ACCESS, 403, "Access denied. You have no access to RAW data export API."
    ),
    ErrorCode(
        Code.CONCURRENT_JOBS,
        403,
        "Quota exceeded. {limit} concurrent requests per user has been reached.",
    ),
    ErrorCode(
        Code.USER_DAILY_QUOTA,
        429,
        "Too many requests. {limit} requests per day per user quota has been exhausted.",
    ),
    ErrorCode(
        Code.SPACE_DAILY_QUOTA,
        429,
        "Too many requests. {limit} requests per day per space quota has been exhausted.",
    ),
    ErrorCode(
        Code.JOB_INTERVAL,
        429,
        "Too many requests. One request per {limit} seconds per user quota has been exhausted.",
    ),
    ErrorCode(
        Code.REPORT_EXPIRED,
        404,
        "File not found. The requested report file had been expired and was deleted.",
    ),
    ErrorCode(Code.JOB_NOT_FOUND, 400, "The job_id you requested is not found."),
)

MESSAGES: dict[int, ErrorCode] = {e.code: e for e in _TABLE}


@dataclass
class ApiError(Exception):
    """An answer in the published error envelope.

    `detail` is appended to the published message when it helps the caller (which limit, what
    went wrong in a failed job); `retry_after` becomes a `Retry-After` header. `text` replaces
    the message where the template has no place for what went wrong (a bad line of an upload).
    `http_status` overrides the code's HTTP status only where the published table has no row
    for the failure (an unknown path or method answers 404/405 with code 1).
    """

    code: int
    values: dict[str, object] = field(default_factory=dict)
    detail: str | None = None
    retry_after: int | None = None
    text: str | None = None
    http_status: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return self.http_status or MESSAGES[self.code].status

    @property
    def message(self) -> str:
        if self.text is not None:
            return self.text
        text = MESSAGES[self.code].template.format_map(_Missing(self.values))
        return f"{text} {self.detail}" if self.detail else text

    def envelope(self) -> dict[str, object]:
        return {
            "status_code": self.status,
            "errors": [{"code": int(self.code), "msg": self.message}],
        }


class _Missing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""
