"""Typed exceptions for the answers of the RAW export API, one class per family of error codes.

A caller catches the family it can act on: fix the token (AuthError), ask for access
(AccessError), start a new job (NotFound), come back tomorrow (QuotaExceeded), and so on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = [
    "AccessError",
    "AuthError",
    "BadRequest",
    "CorruptReport",
    "NetworkError",
    "NotFound",
    "ProtocolError",
    "QuotaExceeded",
    "RateLimited",
    "RawExportError",
    "ServerError",
    "error_for",
    "next_utc_midnight",
]


class RawExportError(Exception):
    """Any failure of the client. `code` and `status` are None when the server gave none."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code is not None else self.message


class BadRequest(RawExportError):
    """Codes 2-10: the request itself is wrong; sending it again will not help."""


class AuthError(RawExportError):
    """Codes 11, 12, 15, 16: the token is wrong, missing, or lacks API / RAW export rights."""


class AccessError(RawExportError):
    """Codes 13, 14: no access to the app or to the report file (or its download cap is used)."""


class NotFound(RawExportError):
    """Codes 21, 22: the report expired or the job is unknown; set a new job."""


class RateLimited(RawExportError):
    """Codes 17, 20: too many concurrent jobs or jobs too close together; waited out."""

    def __init__(
        self, message: str, *, code: int | None, status: int | None, retry_after: float | None
    ):
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class QuotaExceeded(RawExportError):
    """Codes 18, 19: a daily quota is used up. `retry_at` is when a new job may be accepted."""

    def __init__(self, message: str, *, code: int | None, status: int | None, retry_at: datetime):
        super().__init__(message, code=code, status=status)
        self.retry_at = retry_at

    def __str__(self) -> str:
        return f"{super().__str__()} Retry at {self.retry_at.isoformat()}."


class ServerError(RawExportError):
    """Code 1 or any 5xx: retried with backoff before it reaches the caller."""


class NetworkError(RawExportError):
    """The connection kept failing after every allowed retry."""


class ProtocolError(RawExportError):
    """An answer that does not follow the published API."""


class CorruptReport(RawExportError):
    """The downloaded archive failed the ZIP check."""


_FAMILIES: dict[int, type[RawExportError]] = {
    **dict.fromkeys(range(2, 11), BadRequest),
    **dict.fromkeys((11, 12, 15, 16), AuthError),
    **dict.fromkeys((13, 14), AccessError),
    **dict.fromkeys((21, 22), NotFound),
    1: ServerError,
}
_BY_STATUS: dict[int, type[RawExportError]] = {
    401: AuthError,
    403: AccessError,
    404: NotFound,
    429: RateLimited,
}


def next_utc_midnight(now: datetime) -> datetime:
    """Daily quotas reset at the beginning of the next UTC day."""
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def error_for(
    code: int | None, status: int, message: str, retry_after: float | None
) -> RawExportError:
    """The exception for an error answer; `retry_after` is the Retry-After header in seconds."""
    if code in (18, 19):
        now = datetime.now(UTC)
        retry_at = (
            now + timedelta(seconds=retry_after)
            if retry_after is not None
            else next_utc_midnight(now)
        )
        return QuotaExceeded(message, code=code, status=status, retry_at=retry_at)
    family = _FAMILIES.get(code) if code is not None else None
    if family is None:
        family = ServerError if status >= 500 else _BY_STATUS.get(status, BadRequest)
    if code in (17, 20) or family is RateLimited:
        return RateLimited(message, code=code, status=status, retry_after=retry_after)
    return family(message, code=code, status=status)
