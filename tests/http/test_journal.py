"""One log line per event of a job's life, of a load and of a token reset, each with its ids and
never a token; the JSON format gives each field a key of its own, redacted as well."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import pytest

from rawexport.observability import journal
from rawexport.observability.logs import JsonFormatter, configure
from tests.api.conftest import LENIENT, Service
from tests.api.jobs import rows, submit


def events_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "rawexport.journal"]


def wait_for(caplog: pytest.LogCaptureFixture, event: str, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while not any(getattr(r, "event", None) == event for r in events_of(caplog)):
        assert time.monotonic() < deadline, f"no {event!r} line"
        time.sleep(0.05)


def test_a_jobs_life_is_one_line_per_event_with_its_ids(
    start_service: Callable[..., Service], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # Reports expire a second after the job ends; the sweeper looks every second.
    service = start_service(**LENIENT, workers=1, report_ttl_s=1, sweep_interval_s=1)
    acc, bystander = service.account(), service.account()
    service.load(acc.app_id, rows())
    job_id = submit(service, acc)
    submit(service, bystander)  # another job: its lines must not be counted as this one's
    wait_for(caplog, "job expired")

    lines = [r for r in events_of(caplog) if getattr(r, "fields", {}).get("job_id") == job_id]
    assert [r.event for r in lines] == [  # type: ignore[attr-defined]
        "job accepted",
        "job started",
        "job finished",
        "job expired",
    ]
    accepted, started, finished, _ = (r.fields for r in lines)  # type: ignore[attr-defined]
    assert (accepted["user_id"], accepted["app_id"]) == (acc.user_id, acc.app_id)
    assert accepted["space_id"] == acc.space_id
    assert started["worker_id"]
    assert finished["rows"] == len(rows()) and finished["bytes"] > 0
    assert finished["seconds"] >= 0
    assert f"job finished job_id={job_id} rows={len(rows())}" in caplog.text
    assert acc.token not in caplog.text and bystander.token not in caplog.text


def test_loads_and_token_resets_are_logged_without_keys_or_tokens(
    start_service: Callable[..., Service], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    service = start_service(workers=0)
    acc = service.account()

    def upload(lines: list[dict[str, object]]) -> int:
        body = "".join(json.dumps(line) + "\n" for line in lines)
        answer = service.client.post(
            "/api/v1/events",
            params={"app_id": acc.app_id},
            headers={"X-Ingest-Key": "admin", "X-Source-Name": "day1.jsonl"},
            content=body,
        )
        return answer.status_code

    assert upload(rows()) == 200
    assert upload([{"event": "tr", "devtodev ID": 1, "time": "soon"}]) == 400
    new_token = service.cli("token", "reset", acc.user_id)["user_token"]

    stored, rejected, reset = events_of(caplog)
    assert stored.fields == {  # type: ignore[attr-defined]
        "app_id": acc.app_id,
        "source": "day1.jsonl",
        "users": False,
        "rows": len(rows()),
    }
    assert rejected.event == "load rejected" and "day1.jsonl" in rejected.fields["reason"]  # type: ignore[attr-defined]
    assert reset.fields == {"user_id": acc.user_id}  # type: ignore[attr-defined]
    for secret in (acc.token, new_token, "admin"):
        assert secret not in caplog.text


def test_json_lines_carry_the_fields_and_mask_tokens(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    journal.job_failed("job-1", "upstream said GET /x?user_token=SECRET failed")
    journal.jobs_reclaimed(2, 1, 3)
    lines = [json.loads(JsonFormatter().format(r)) for r in events_of(caplog)]
    failed, requeued, poisoned = lines
    assert failed["event"] == "job failed" and failed["job_id"] == "job-1"
    assert failed["level"] == "ERROR"
    assert failed["reason"] == "upstream said GET /x?user_token=*** failed"
    assert "SECRET" not in failed["message"]
    assert (requeued["event"], requeued["count"]) == ("jobs re-queued", 2)
    assert (poisoned["event"], poisoned["count"]) == ("jobs failed", 1)


def test_an_unknown_log_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="log_format: expected one of text, json, got 'xml'"):
        configure("xml")
