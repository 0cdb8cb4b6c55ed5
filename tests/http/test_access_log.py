"""Secrets masked in log lines whatever their spelling, and in tracebacks."""

from __future__ import annotations

import logging
import sys

import pytest

from rawexport.http.access_log import RedactSecrets, redact


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("GET /getprogress?user_token=SECRET&job_id=J", "GET /getprogress?user_token=***&job_id=J"),
        (
            "GET /getprogress?job_id=J&user%5Ftoken=SECRET",
            "GET /getprogress?job_id=J&user%5Ftoken=***",
        ),
        ("GET /getprogress?user%5ftoken=SECRET", "GET /getprogress?user%5ftoken=***"),
        ("GET /getprogress?USER_TOKEN=SECRET", "GET /getprogress?USER_TOKEN=***"),
        ("GET /download/user_token=SECRET/x", "GET /download/user_token=***"),
        ("POST /events?app_id=A;ingest_key=SECRET", "POST /events?app_id=A;ingest_key=***"),
        ("body: user_token=SECRET&job_id=J", "body: user_token=***&job_id=J"),
        ('body: {"user_token": "SECRET", "a": 1}', 'body: {"user_token": "***", "a": 1}'),
        (
            "GET /getprogress?job_id=J&not_user_token=x",
            "GET /getprogress?job_id=J&not_user_token=x",
        ),
    ],
)
def test_a_token_is_masked_whatever_its_spelling(line: str, shown: str) -> None:
    assert redact(line) == shown


def test_a_traceback_is_masked_too() -> None:
    try:
        raise ValueError("failed on /getprogress?user_token=SECRET")
    except ValueError:
        record = logging.LogRecord(
            "rawexport.http", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    assert RedactSecrets().filter(record)
    text = logging.Formatter().format(record)
    assert "SECRET" not in text and "user_token=***" in text
