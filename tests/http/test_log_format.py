"""`serve` with `log_format=json`: every line of the process, uvicorn's included, is one JSON
object, and the access line of a request with a token shows it masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx

from rawexport.observability.logs import TEXT_FORMAT, TextFormatter
from tests.conftest import LiveServer


def test_a_json_server_writes_only_json_lines_without_tokens(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(RAWEXPORT_LOG_FORMAT="json")
    acc = server.account()
    with httpx.Client(base_url=server.url) as client:
        path = f"/api/v1/rawexport/getprogress?user_token={acc.token}&job_id=x"
        assert client.get(path).status_code == 400
    server.stop()
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers
    access = [line["message"] for line in lines if line["logger"] == "uvicorn.access"]
    assert any("getprogress?user_token=***&job_id=x HTTP/1.1" in m for m in access)
    assert acc.token not in server.log.read_text()


def test_the_text_format_writes_the_standard_date_in_every_second() -> None:
    """The date is made once a second; each line still shows its own second and milliseconds."""
    cached, standard = TextFormatter(), logging.Formatter(TEXT_FORMAT)
    for created in (1_796_000_000.001, 1_796_000_000.999, 1_796_000_001.5, 1_796_000_000.25):
        record = logging.LogRecord("rawexport", logging.INFO, __file__, 1, "line", None, None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert cached.format(record) == standard.format(record)
