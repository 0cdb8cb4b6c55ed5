"""Reading what a caller sent: a size-limited body, JSON whatever the Content-Type, the token.

Real clients POST JSON without a Content-Type, or with `application/x-www-form-urlencoded` that
their HTTP library added by itself, so the body is tried as JSON first and read as
a form only when it is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from rawexport.domain.errors import ApiError
from rawexport.meta.accounts import Accounts, User

__all__ = ["BodyTooLarge", "Params", "authenticate", "limited_stream", "read_params"]


@dataclass(frozen=True)
class Params:
    query: dict[str, str]
    body: dict[str, Any]
    raw_body: bytes
    json_error: bool
    """The body was neither empty nor a JSON object (setjob answers code 3)."""

    def get(self, name: str) -> Any:
        return self.body.get(name, self.query.get(name))

    def token(self) -> str:
        """The user token from the query or the body; both given and different is code 11."""
        in_query, in_body = self.query.get("user_token"), self.body.get("user_token")
        if in_query is not None and in_body is not None and in_query != in_body:
            raise ApiError(11, {"token": in_query})
        token = in_body if in_body is not None else in_query
        if token is None or token == "":
            raise ApiError(12)
        if not isinstance(token, str):
            raise ApiError(11, {"token": token})
        return token


async def read_params(request: Request, limit: int, *, form_fallback: bool) -> Params:
    raw = await _read_body(request, limit)
    body: dict[str, Any] = {}
    json_error = False
    if raw.strip():
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
            json_error = True
            if form_fallback:
                body = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if isinstance(parsed, dict):
            body = parsed
        elif not json_error:
            json_error = True
    return Params(dict(request.query_params), body, raw, json_error)


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"exceeds the limit of {limit} bytes")
        self.limit = limit


async def limited_stream(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; BodyTooLarge as soon as they pass `limit` bytes."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        yield chunk


async def _read_body(request: Request, limit: int) -> bytes:
    try:
        return b"".join([chunk async for chunk in limited_stream(request, limit)])
    except BodyTooLarge:
        raise ApiError(3, detail=f"The request body exceeds the limit of {limit} bytes.") from None


def authenticate(accounts: Accounts, params: Params) -> User:
    """Codes 12, 11, 15, 16 in the order of docs/api.md (order of the checks)."""
    token = params.token()
    user = accounts.user_by_token(token)
    if user is None:
        raise ApiError(11, {"token": token})
    if not user.api_access:
        raise ApiError(15)
    if not user.raw_export_access:
        raise ApiError(16)
    return user
