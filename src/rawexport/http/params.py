"""Reading what a caller sent: a size-limited body, JSON whatever the Content-Type, the token.

Real clients POST JSON without a Content-Type, or with `application/x-www-form-urlencoded` that
their HTTP library added by itself, so the body is tried as JSON first and read as
a form only when it is not JSON.

The body is parsed strictly (orjson): `NaN`/`Infinity`, a number beyond a double (`1e309`, an
integer of 400 digits) and a lone surrogate (`"\\ud800"`) are not JSON a job could use, so they
are refused here as malformed, with the reason, before anything stores or queries them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from rawexport.domain.errors import ApiError, Code
from rawexport.meta.accounts import Accounts, User

__all__ = [
    "MAX_DEPTH",
    "BodyTooLarge",
    "MalformedJson",
    "Params",
    "admitted",
    "authenticate",
    "limited_stream",
    "parse_json",
    "read_params",
]

MAX_DEPTH = 32
"""Nesting a body may have: a `setjob` body needs 7; deeper is refused before any code walks it."""

_BOM = b"\xef\xbb\xbf"
_JSON_STARTS = (b"{", b"[")
"""A body opening like this was meant as JSON: if it is not, that is code 3, not a form."""


@dataclass(frozen=True)
class Params:
    query: dict[str, str]
    body: dict[str, Any]
    raw_body: bytes
    not_an_object: bool
    """The body is JSON, but not an object (setjob answers code 3)."""

    def get(self, name: str) -> Any:
        return self.body.get(name, self.query.get(name))

    def token(self) -> str:
        """The user token from the query or the body; both given and different is code 11."""
        in_query, in_body = self.query.get("user_token"), self.body.get("user_token")
        if in_query is not None and in_body is not None and in_query != in_body:
            raise ApiError(Code.WRONG_TOKEN, {"token": in_query})
        token = in_body if in_body is not None else in_query
        if token is None or token == "":
            raise ApiError(Code.NO_TOKEN)
        if not isinstance(token, str):
            raise ApiError(Code.WRONG_TOKEN, {"token": orjson.dumps(token).decode()[:80]})
        return token


class MalformedJson(ValueError):
    pass


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`; MalformedJson (with a one-line reason) when it is none."""
    try:
        value = orjson.loads(raw.removeprefix(_BOM))
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(str(exc)) from None
    if _deeper_than(value, MAX_DEPTH):
        raise MalformedJson(f"nested deeper than {MAX_DEPTH} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Iterative, so that a deep value cannot exhaust the Python stack while it is measured."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


async def read_params(request: Request, limit: int, *, form_fallback: bool) -> Params:
    """Code 3 for a body that is meant as JSON and is not; with `form_fallback`, a body that
    does not open like JSON is read as a form."""
    raw = await _read_body(request, limit)
    body: dict[str, Any] = {}
    not_an_object = False
    if raw.strip():
        try:
            parsed = parse_json(raw)
        except MalformedJson as exc:
            if not form_fallback or raw.lstrip()[:1] in _JSON_STARTS:
                raise ApiError(Code.MALFORMED_JSON, detail=str(exc)) from None
            body = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        else:
            if isinstance(parsed, dict):
                body = parsed
            else:
                not_an_object = True
    return Params(dict(request.query_params), body, raw, not_an_object)


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
        raise ApiError(
            Code.MALFORMED_JSON, detail=f"The request body exceeds the limit of {limit} bytes."
        ) from None


def authenticate(accounts: Accounts, params: Params) -> User:
    """Codes 12, 11, 15, 16 in the order of docs/api.md (order of the checks)."""
    token = params.token()
    return admitted(accounts.user_by_token(token), token)


def admitted(user: User | None, token: str) -> User:
    """Codes 11, 15, 16 for the user `token` found (None: nobody)."""
    if user is None:
        raise ApiError(Code.WRONG_TOKEN, {"token": token})
    if not user.api_access:
        raise ApiError(Code.NO_API_ACCESS)
    if not user.raw_export_access:
        raise ApiError(Code.NO_RAW_EXPORT_ACCESS)
    return user
