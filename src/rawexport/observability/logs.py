"""The process's log lines, as text or as one JSON object a line for log shippers.

One handler on the root logger, which uvicorn's loggers propagate to as well, so the access log,
the server's own lines and the workers' lines share one format. Whatever the format, every line
goes through the redaction of `http.access_log`: a token in a URL never reaches the output.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import orjson

from rawexport.http.access_log import install as install_redaction
from rawexport.http.access_log import redact

__all__ = ["LOG_FORMATS", "JsonFormatter", "TextFormatter", "configure"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message"}`, plus the `event` and fields of a journal line
    (`observability.journal`) as keys of their own, so a shipper indexes them without parsing."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        event = getattr(record, "event", None)
        fields = getattr(record, "fields", None)
        if isinstance(event, str) and isinstance(fields, dict):
            entry["event"] = event
            for name, value in fields.items():
                entry[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, its date made once a second rather than by `strftime` on every line: the
    access log writes a line a request."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, date = self._second  # one tuple, which another thread may replace meanwhile
        if int(record.created) != second:
            second = int(record.created)
            date = time.strftime(self.default_time_format, self.converter(second))
            self._second = (second, date)
        return f"{date},{int(record.msecs):03d}"  # the standard formatter's milliseconds


LOG_FORMATS: dict[str, logging.Formatter] = {
    "text": TextFormatter(),
    "json": JsonFormatter(),
}


_CHATTY = ("alembic", "httpx", "httpcore", "botocore", "boto3", "s3transfer")
"""Libraries that log every migration step or request at INFO: only their warnings are shown."""


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send every logger's lines to stderr in `log_format`; uvicorn must be started with
    `log_config=None` so that it keeps this."""
    formatter = LOG_FORMATS.get(log_format)
    if formatter is None:
        raise ValueError(
            f"log_format: expected one of {', '.join(LOG_FORMATS)}, got {log_format!r}"
        )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in _UVICORN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    install_redaction()
    # The record fields that no format shows are not gathered (the logging HOWTO's
    # "Optimization"): the access log writes a line on every request.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
