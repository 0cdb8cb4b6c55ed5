"""Every published envelope, as literal JSON, through the parser both clients share."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rawexport.client import errors
from rawexport.client.protocol import (
    check_answer,
    parse_job_id,
    parse_progress,
    retry_after_seconds,
    setjob_body,
)


def answer(status: int, text: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers=headers)


def test_setjob_success_gives_the_job_id() -> None:
    assert parse_job_id(answer(200, '{"status_code": 200, "data": "JOB_ID"}')) == "JOB_ID"


def test_pending_and_running() -> None:
    pending = parse_progress(
        answer(202, '{"status_code":202,"data":{"status":"pending","percent_complete":0}}')
    )
    assert (pending.status, pending.percent, pending.complete) == ("pending", 0, False)
    running = parse_progress(
        answer(
            200,
            '{"status_code":200,"data":{"status":"running","percent_complete":10}}',
            **{"Retry-After": "3"},
        )
    )
    assert (running.status, running.percent, running.retry_after) == ("running", 10, 3.0)


def test_complete_with_a_file() -> None:
    progress = parse_progress(
        answer(
            201,
            """{
        "status_code":201,
        "data":{"status":"complete","percent_complete":100,"result":{
            "msg":"Report file is ready","format":"csv",
            "url":"https://devtodev.com/api/v1/rawexport/download/?job_id=J&user_token=T",
            "ttl":100500,"expire":123434534534}}}""",
        )
    )
    assert progress.complete
    assert progress.link is not None
    assert (
        progress.link.url == "https://devtodev.com/api/v1/rawexport/download/?job_id=J&user_token=T"
    )
    assert (progress.link.format, progress.link.ttl, progress.link.expire) == (
        "csv",
        100500,
        123434534534,
    )
    assert progress.message == "Report file is ready"


def test_complete_and_empty_is_not_an_error() -> None:
    msg = (
        "Unfortunately the result of your request is empty. "
        "Please try to change the report conditions."
    )
    progress = parse_progress(
        answer(
            200,
            f"""{{"status_code":200,"data":{{
        "status":"complete","percent_complete":100,"result":{{"msg":"{msg}"}}}}}}""",
        )
    )
    assert progress.complete
    assert progress.link is None
    assert progress.message == msg


B, AU, AC, NF = errors.BadRequest, errors.AuthError, errors.AccessError, errors.NotFound
RL, QE, SE = errors.RateLimited, errors.QuotaExceeded, errors.ServerError
# (HTTP status, code, family) of every published code, plus code 1.
FAMILIES = [
    *((400, code, B) for code in range(2, 11)),
    (401, 11, AU), (401, 12, AU), (403, 15, AU), (403, 16, AU),
    (403, 13, AC), (403, 14, AC),
    (404, 21, NF), (400, 22, NF),
    (403, 17, RL), (429, 20, RL),
    (429, 18, QE), (429, 19, QE),
    (500, 1, SE),
]  # fmt: skip


@pytest.mark.parametrize(("status", "code", "family"), FAMILIES)
def test_every_error_code_raises_its_family(
    status: int, code: int, family: type[errors.RawExportError]
) -> None:
    error = {"code": code, "msg": "Error description"}
    body = json.dumps({"status_code": status, "errors": [error]})
    with pytest.raises(family) as raised:
        parse_progress(answer(status, body))
    assert (raised.value.code, raised.value.status, raised.value.message) == (
        code,
        status,
        "Error description",
    )
    assert isinstance(raised.value, errors.RawExportError)


def test_rate_limit_carries_retry_after() -> None:
    body = '{"status_code":429,"errors":[{"code":20,"msg":"Too many requests."}]}'
    with pytest.raises(errors.RateLimited) as raised:
        parse_job_id(answer(429, body, **{"Retry-After": "7"}))
    assert raised.value.retry_after == 7.0


def test_daily_quota_retry_at_comes_from_retry_after() -> None:
    body = '{"status_code":429,"errors":[{"code":18,"msg":"Too many requests."}]}'
    before = datetime.now(UTC)
    with pytest.raises(errors.QuotaExceeded) as raised:
        parse_job_id(answer(429, body, **{"Retry-After": "3600"}))
    assert before + timedelta(seconds=3600) <= raised.value.retry_at
    assert raised.value.retry_at <= datetime.now(UTC) + timedelta(seconds=3600)
    assert "Retry at" in str(raised.value)


def test_daily_quota_without_retry_after_means_next_utc_midnight() -> None:
    body = '{"status_code":429,"errors":[{"code":19,"msg":"Too many requests."}]}'
    with pytest.raises(errors.QuotaExceeded) as raised:
        parse_job_id(answer(429, body))
    retry_at = raised.value.retry_at
    assert (retry_at.hour, retry_at.minute, retry_at.second, retry_at.utcoffset()) == (
        0,
        0,
        0,
        timedelta(0),
    )
    assert timedelta(0) < retry_at - datetime.now(UTC) <= timedelta(days=1)


def test_next_utc_midnight_counts_in_utc() -> None:
    moscow_late = datetime.fromisoformat("2026-11-27T23:30:00+03:00")  # 20:30 UTC
    assert errors.next_utc_midnight(moscow_late) == datetime(2026, 11, 28, tzinfo=UTC)


def test_a_gateway_page_is_a_server_error() -> None:
    with pytest.raises(errors.ServerError) as raised:
        check_answer(answer(502, "<html>Bad Gateway</html>"))
    assert raised.value.status == 502
    assert raised.value.code is None


def test_a_non_json_success_is_a_protocol_error() -> None:
    with pytest.raises(errors.ProtocolError):
        parse_job_id(answer(200, "OK"))
    with pytest.raises(errors.ProtocolError):
        parse_progress(answer(200, '{"status_code":200,"data":{"status":"lost"}}'))


def test_retry_after_as_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    seconds = retry_after_seconds(httpx.Headers({"Retry-After": header}))
    assert seconds is not None and 100 < seconds <= 120
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Headers()) is None


def test_setjob_body_sends_only_what_was_set() -> None:
    assert setjob_body("T", "A", 1, 2, (), None) == {
        "user_token": "T",
        "app_id": "A",
        "start_date": 1,
        "end_date": 2,
    }
    custom = {"name": "buy", "filters": {"price": {"gt": 5}}, "alias": "big"}
    assert setjob_body("T", "A", 1, 2, ["tr", custom], "parquet") == {
        "user_token": "T",
        "app_id": "A",
        "start_date": 1,
        "end_date": 2,
        "events": ["tr", custom],
        "format": "parquet",
    }
