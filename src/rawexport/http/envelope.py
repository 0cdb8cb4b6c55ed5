"""The published JSON envelopes: `status_code` always equals the HTTP status."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

from rawexport.domain.errors import ApiError

__all__ = ["error_response", "ok"]


class _OrjsonResponse(JSONResponse):
    """orjson writes an envelope several times faster than `json`; clients poll getprogress."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ok(status: int, data: object) -> JSONResponse:
    return _OrjsonResponse({"status_code": status, "data": data}, status_code=status)


def error_response(error: ApiError) -> JSONResponse:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, error.retry_after))
    return _OrjsonResponse(error.envelope(), status_code=error.status, headers=headers)
