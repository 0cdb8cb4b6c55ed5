"""The published JSON envelopes: `status_code` always equals the HTTP status."""

from __future__ import annotations

from starlette.responses import JSONResponse

from rawexport.domain.errors import ApiError

__all__ = ["error_response", "ok"]


def ok(status: int, data: object) -> JSONResponse:
    return JSONResponse({"status_code": status, "data": data}, status_code=status)


def error_response(error: ApiError) -> JSONResponse:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, error.retry_after))
    return JSONResponse(error.envelope(), status_code=error.status, headers=headers)
