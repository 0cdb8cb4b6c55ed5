"""What every backend shares: quoting, the text of query parameters, settings, rows decoding.

All backends speak ClickHouse SQL and take query parameters as text for `{name:Type}`
placeholders (chDB's `params`, the HTTP interface's `param_<name>`), so the SQL and its
parameters are made once, here, whatever runs them.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from rawexport.store.base import Params, StoreError

__all__ = [
    "ROWS_FORMAT",
    "SESSION_SETTINGS",
    "cancel_marked",
    "decode_rows",
    "format_name",
    "param_texts",
    "query_mark",
    "quote_identifier",
    "quote_string",
]

# Query parameters reach ClickHouse as text parsed with the TabSeparated escaping rules.
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})
_FORMAT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")

SESSION_SETTINGS: Mapping[str, str] = {
    # The published reports write null as an empty field, not ClickHouse's default \N.
    "format_csv_null_representation": "",
    # rows() decodes JSON: 64-bit integers must come back as numbers, not strings.
    "output_format_json_quote_64bit_integers": "0",
}
"""Settings every query runs with, as text (a backend sends them as it can)."""


ROWS_FORMAT = "JSONCompactEachRow"
"""The format `rows()` asks for: one JSON array per row, typed, cheap to decode."""


def quote_string(value: str) -> str:
    """A ClickHouse string literal: `'...'` with backslash, quote and control bytes escaped."""
    return "'" + value.translate(_TSV_ESCAPES).replace("'", "\\'") + "'"


def quote_identifier(name: str) -> str:
    """A ClickHouse identifier in backticks, safe for any name."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def format_name(fmt: str) -> str:
    """`fmt` once checked to be a bare format name: it is spliced into SQL text."""
    if not _FORMAT_NAME.fullmatch(fmt):
        raise ValueError(f"not a ClickHouse format name: {fmt!r}")
    return fmt


def param_texts(params: Params | None) -> dict[str, str]:
    """The text of each query parameter, as ClickHouse parses a `{name:Type}` placeholder."""
    return {name: _param_text(value) for name, value in (params or {}).items()}


def decode_rows(body: bytes) -> list[tuple[Any, ...]]:
    """The rows of a result in `ROWS_FORMAT` as Python values."""
    return [tuple(orjson.loads(line)) for line in body.splitlines()]


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_element_literal(v) for v in value) + "]"
    raise TypeError(f"unsupported query parameter type: {type(value).__name__}")


def _element_literal(value: Any) -> str:
    return quote_string(value) if isinstance(value, str) else _param_text(value)


def query_mark() -> str:
    """A mark for a streamed query's `log_comment` setting, by which it is found to be stopped."""
    return f"rawexport-stream-{uuid.uuid4().hex}"


def cancel_marked(execute: Callable[[str, Params], None], mark: str) -> None:
    """Stop the query marked `mark` (`query_mark`), through the store's `execute`.

    By a setting, not a comment: chDB shows a query with parameters without its comments. A
    failure is ignored: the caller asks again until the query has ended.
    """
    with contextlib.suppress(StoreError):
        execute("KILL QUERY WHERE Settings['log_comment'] = {mark:String} ASYNC", {"mark": mark})
