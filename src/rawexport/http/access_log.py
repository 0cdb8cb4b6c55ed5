"""Logs without secrets: tokens and keys travel in URLs, so they are masked in every log line.

A parameter is recognised by its name as the application reads it, that is after percent
decoding (`user%5Ftoken` is `user_token`) and whatever the case; the name stays as sent and the
value becomes `***`, wherever the pair stands: a query, a path segment, a form body quoted in a
message, a traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

__all__ = ["SECRET_NAMES", "RedactSecrets", "install", "redact"]

SECRET_NAMES = frozenset({"user_token", "ingest_key", "x-ingest-key"})

_PAIR = re.compile(r"(?P<name>[^\s?&;=\"'/]+)=(?P<value>[^&;\s\"']*)")
_JSON_PAIR = re.compile(r"(?P<name>\"(?:user_token|ingest_key)\"\s*:\s*)\"[^\"]*\"", re.IGNORECASE)


def _mask_pair(match: re.Match[str]) -> str:
    if unquote_plus(match["name"]).strip().lower() in SECRET_NAMES:
        return f"{match['name']}=***"
    return match[0]


def redact(text: str) -> str:
    if "=" in text:
        text = _PAIR.sub(_mask_pair, text)
    if ":" in text:
        text = _JSON_PAIR.sub(r'\g<name>"***"', text)
    return text


class RedactSecrets(logging.Filter):
    """Masks secrets in a record's message, its arguments and its traceback."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        # A record may pass this filter twice, on its logger and on a handler: once is enough.
        if getattr(record, "redacted", False):
            return True
        record.redacted = True
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "rawexport.http", "")


def install(loggers: Iterable[str] = _LOGGERS) -> None:
    """Redact on each handler of the server's loggers (once logging is configured), and on
    those loggers that have none: a logger's own filter misses the records its children
    propagate to its handlers, and one filter a record is enough."""
    redaction = RedactSecrets()
    targets: list[logging.Filterer] = []
    for logger in map(logging.getLogger, loggers):
        targets.extend(logger.handlers or [logger])
    if logging.lastResort is not None:
        targets.append(logging.lastResort)
    for target in targets:
        target.addFilter(redaction)
