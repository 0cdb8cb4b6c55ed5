"""The published error codes of the RAW export API, each with its HTTP status and message."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ApiError", "ErrorCode", "MESSAGES"]


@dataclass(frozen=True)
class ErrorCode:
    code: int
    status: int
    template: str


_TABLE = (
    ErrorCode(1, 500, "Unknown Error"),
    ErrorCode(2, 400, "Request body is empty"),
    ErrorCode(3, 400, "Malformed json"),
    ErrorCode(4, 400, "Field not found: {field}"),
    ErrorCode(5, 400, "Field {field} has type {received} but {expected} expected"),
    ErrorCode(6, 400, "Invalid app id {app_id}"),
    ErrorCode(7, 400, "Unknown format: {format}"),
    ErrorCode(8, 400, "Unknown event: {event}"),
    ErrorCode(9, 400, "Event alias duplicated: {alias}"),
    ErrorCode(
        10,
        400,
        "Incorrect report time frame interval: start_date and end_date can not be earlier "
        "than {days} days from now.",
    ),
    ErrorCode(11, 401, "Authorization error. Wrong user token {token}"),
    ErrorCode(12, 401, "Authorization error. User_token is not set."),
    ErrorCode(13, 403, "Access denied. You have no access to the app {app_id}"),
    ErrorCode(14, 403, "Access denied. You have no access to the report file {file_id}"),
    ErrorCode(15, 403, "Access denied. You have no access to API."),
    ErrorCode(16, 403, "Access denied. You have no access to RAW data export API."),
    ErrorCode(17, 403, "Quota exceeded. {limit} concurrent requests per user has been reached."),
    ErrorCode(
        18, 429, "Too many requests. {limit} requests per day per user quota has been exhausted."
    ),
    ErrorCode(
        19, 429, "Too many requests. {limit} requests per day per space quota has been exhausted."
    ),
    ErrorCode(
        20,
        429,
        "Too many requests. One request per {limit} seconds per user quota has been exhausted.",
    ),
    ErrorCode(
        21, 404, "File not found. The requested report file had been expired and was deleted."
    ),
    ErrorCode(22, 400, "The job_id you requested is not found."),
)

MESSAGES: dict[int, ErrorCode] = {e.code: e for e in _TABLE}


@dataclass
class ApiError(Exception):
    """An answer in the published error envelope.

    `detail` is appended to the published message when it helps the caller (which limit, what
    went wrong in a failed job); `retry_after` becomes a `Retry-After` header.
    """

    code: int
    values: dict[str, object] = field(default_factory=dict)
    detail: str | None = None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return MESSAGES[self.code].status

    @property
    def message(self) -> str:
        text = MESSAGES[self.code].template.format_map(_Missing(self.values))
        return f"{text} {self.detail}" if self.detail else text

    def envelope(self) -> dict[str, object]:
        return {"status_code": self.status, "errors": [{"code": self.code, "msg": self.message}]}


class _Missing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""
