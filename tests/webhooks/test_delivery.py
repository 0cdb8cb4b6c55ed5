"""Webhooks delivered by worker pools to a receiver on loopback: signed, retried, never
redirected, each signed with its own space's secret, stopped by the allowlist."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from rawexport.meta.accounts import Accounts
from rawexport.meta.jobs import JobQueue
from rawexport.workers.pool import WorkerPool
from tests.webhooks.conftest import (
    BASE_URL,
    Member,
    broken_export,
    outbox_row,
    small_export,
    wait_until,
)
from tests.webhooks.receiver import Receiver

StartPool = Callable[..., WorkerPool]


def host_of(receiver: Receiver) -> str:
    return receiver.url.removeprefix("http://")


def signed_by(secret: str, body: bytes, header: str) -> bool:
    """The recipe of docs/api.md."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def posts(outcome: str) -> float:
    """This process's `rawexport_webhooks_total{outcome}`."""
    return REGISTRY.get_sample_value("rawexport_webhooks_total", {"outcome": outcome}) or 0.0


def delivered(engine: Engine, job_id: str) -> Callable[[], bool]:
    return lambda: (row := outbox_row(engine, job_id)) is not None and row.delivered_at is not None


def test_a_completed_job_posts_its_signed_getprogress_answer_once(
    engine: Engine, queue: JobQueue, member: Member, receiver: Receiver, start_pool: StartPool
) -> None:
    start_pool(small_export, webhook_hosts=host_of(receiver))
    job_id = member.submit(f"{receiver.url}/hooks/rawexport?team=data")
    silent = member.submit(None)  # a decoy: a job that asked for no notification

    [request] = receiver.wait_for(1)
    wait_until(delivered(engine, job_id))
    wait_until(lambda: (job := queue.get(silent)) is not None and job.status == "complete")

    secret = Accounts(engine).webhook_secret(member.space_id)
    assert request.path == "/hooks/rawexport?team=data"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-rawexport-job"] == job_id
    assert signed_by(secret, request.body, request.headers["x-rawexport-signature"])
    job = queue.get(job_id)
    assert job is not None and job.expires_at is not None
    assert json.loads(request.body) == {
        "status_code": 201,
        "data": {
            "status": "complete",
            "percent_complete": 100,
            "result": {
                "msg": "Report file is ready",
                "format": "csv",
                "url": f"{BASE_URL}api/v1/rawexport/download/?job_id={job_id}",
                "ttl": 86400,
                "expire": pytest.approx(job.expires_at, abs=1),
                "snapshot": str(job.snapshot),  # the getprogress answer, extensions included
            },
        },
    }
    assert outbox_row(engine, silent) is None
    assert len(receiver.requests) == 1


def test_a_failed_job_posts_its_error_answer(
    engine: Engine, member: Member, receiver: Receiver, start_pool: StartPool
) -> None:
    start_pool(broken_export, webhook_hosts=host_of(receiver))
    job_id = member.submit(f"{receiver.url}/failed")

    [request] = receiver.wait_for(1)

    secret = Accounts(engine).webhook_secret(member.space_id)
    assert signed_by(secret, request.body, request.headers["x-rawexport-signature"])
    assert json.loads(request.body) == {
        "status_code": 500,
        "errors": [
            {"code": 1, "msg": "Unknown Error The export job failed: the event store went away"}
        ],
    }
    assert request.headers["x-rawexport-job"] == job_id


def test_a_receiver_that_answered_500_twice_gets_three_posts_and_one_delivery(
    engine: Engine, member: Member, receiver: Receiver, start_pool: StartPool
) -> None:
    receiver.statuses = [500, 503]
    counted_before = {outcome: posts(outcome) for outcome in ("failed", "delivered")}
    start_pool(small_export, webhook_hosts=host_of(receiver))
    job_id = member.submit(f"{receiver.url}/flaky")

    requests = receiver.wait_for(3)
    wait_until(delivered(engine, job_id))
    wait_until(lambda: posts("delivered") > counted_before["delivered"])  # counted after the commit

    assert len({r.body for r in requests}) == 1  # the same notification each time
    row = outbox_row(engine, job_id)
    assert (row.attempts, row.last_error) == (3, "answered 503")
    assert len(receiver.requests) == 3  # a delivered notification is never claimed again
    counted = {outcome: posts(outcome) - before for outcome, before in counted_before.items()}
    assert counted == {"failed": 2, "delivered": 1}


def test_a_redirect_is_not_followed(
    engine: Engine,
    member: Member,
    receiver: Receiver,
    other_receiver: Receiver,
    start_pool: StartPool,
) -> None:
    receiver.statuses = [307, 302]
    receiver.location = f"{other_receiver.url}/elsewhere"
    start_pool(small_export, webhook_hosts=f"{host_of(receiver)},{host_of(other_receiver)}")
    job_id = member.submit(f"{receiver.url}/moved")

    receiver.wait_for(3)  # two redirects, each counted as a failure and retried, then a 200
    wait_until(delivered(engine, job_id))

    assert other_receiver.requests == []
    assert outbox_row(engine, job_id).attempts == 3


def test_each_job_is_signed_with_its_own_spaces_secret_also_after_a_rotation(
    engine: Engine,
    new_member: Callable[[], Member],
    receiver: Receiver,
    start_pool: StartPool,
) -> None:
    accounts = Accounts(engine)
    first, second = new_member(), new_member()
    start_pool(small_export, webhook_hosts=host_of(receiver))
    before_rotation = first.submit(f"{receiver.url}/a")
    other_space = second.submit(f"{receiver.url}/b")
    receiver.wait_for(2)
    rotated = accounts.webhook_secret(first.space_id, rotate=True)
    after_rotation = first.submit(f"{receiver.url}/a")

    requests = {r.headers["x-rawexport-job"]: r for r in receiver.wait_for(3)}

    def signature(job_id: str) -> tuple[bytes, str]:
        request = requests[job_id]
        return request.body, request.headers["x-rawexport-signature"]

    second_secret = accounts.webhook_secret(second.space_id)
    assert signed_by(second_secret, *signature(other_space))
    assert signed_by(rotated, *signature(after_rotation))
    assert not signed_by(rotated, *signature(before_rotation))
    assert not signed_by(second_secret, *signature(before_rotation))
    assert len({rotated, second_secret}) == 2


def test_a_host_taken_off_the_allowlist_gets_nothing_more(
    engine: Engine,
    member: Member,
    receiver: Receiver,
    other_receiver: Receiver,
    start_pool: StartPool,
) -> None:
    # The job was accepted while its host was allowed; this process's setting no longer names it.
    start_pool(small_export, webhook_hosts=host_of(other_receiver))
    job_id = member.submit(f"{receiver.url}/removed")
    decoy = member.submit(f"{other_receiver.url}/kept")

    other_receiver.wait_for(1)
    wait_until(lambda: outbox_row(engine, job_id) is None)  # dropped

    assert receiver.requests == []
    assert [r.headers["x-rawexport-job"] for r in other_receiver.requests] == [decoy]


def test_a_notification_no_2xx_answers_is_dropped_at_the_give_up_age(
    engine: Engine, member: Member, receiver: Receiver, start_pool: StartPool
) -> None:
    receiver.statuses = [500] * 1000
    start_pool(small_export, webhook_hosts=host_of(receiver), webhook_give_up_s=1)
    job_id = member.submit(f"{receiver.url}/down")

    receiver.wait_for(2)
    wait_until(lambda: outbox_row(engine, job_id) is None)  # dropped after its last answer

    attempts = len(receiver.requests)
    assert 2 <= attempts < 100  # backed off: not one POST after the other for a second


def test_a_name_the_operator_allowed_is_posted_to_with_its_host_header(
    engine: Engine, member: Member, receiver: Receiver, start_pool: StartPool
) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    start_pool(small_export, webhook_hosts=f"localhost:{port}")
    job_id = member.submit(f"http://localhost:{port}/named")

    [request] = receiver.wait_for(1)

    assert request.headers["host"] == f"localhost:{port}"
    assert request.headers["x-rawexport-job"] == job_id
