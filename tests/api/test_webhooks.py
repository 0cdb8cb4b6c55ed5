"""`notify_url` through the API: refused with code 5 unless the operator allows its host, and
once allowed, the job's getprogress answer is posted to it, signed, when the job ends."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator

import pytest

from tests.api.conftest import LENIENT, Service
from tests.api.jobs import NOW, post_setjob, rows, submit, wait_done
from tests.conftest import Account
from tests.webhooks.conftest import outbox_row, wait_until
from tests.webhooks.receiver import Receiver, running_receiver

NOT_ALLOWED = "Field notify_url has type a URL of {} but a URL of a host the server allows"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def service(start_service: Callable[..., Service], receiver: Receiver) -> Service:
    return start_service(webhook_hosts=receiver.url.removeprefix("http://"), **LENIENT)


def error_of(service: Service, acc: Account, **extra: object) -> tuple[int, int, str]:
    response = post_setjob(service, acc, **extra)
    (error,) = response.json()["errors"]
    return response.status_code, error["code"], error["msg"]


@pytest.mark.parametrize(
    ("notify_url", "message"),
    [
        ("http://evil.example.com/hook", NOT_ALLOWED.format("evil.example.com:80")),
        ("http://169.254.169.254/latest/meta-data", NOT_ALLOWED.format("169.254.169.254:80")),
        ("ftp://127.0.0.1/", "Field notify_url has type a string that is no http or https URL"),
        (42, "Field notify_url has type integer but string expected"),
        (None, "Field notify_url has type null but string expected"),
    ],
)
def test_a_url_whose_host_is_not_allowed_is_code_5(
    service: Service, notify_url: object, message: str
) -> None:
    status, code, msg = error_of(service, service.account(), notify_url=notify_url)
    assert (status, code) == (400, 5)
    assert msg.startswith(message)


def test_the_allowed_host_on_another_port_is_code_5(service: Service, receiver: Receiver) -> None:
    host, port = receiver.url.removeprefix("http://").split(":")
    other = f"http://{host}:{int(port) + 1}/hook"
    status, code, msg = error_of(service, service.account(), notify_url=other)
    assert (status, code) == (400, 5) and f"a URL of {host}:{int(port) + 1}" in msg


def test_the_notify_url_is_checked_with_the_fields_before_the_app(service: Service) -> None:
    acc = service.account()
    unknown_app = {"app_id": "no-such-app", "notify_url": "http://evil.example.com/"}
    assert error_of(service, acc, **unknown_app)[:2] == (400, 5)


def test_any_url_is_code_5_while_webhooks_are_off(
    start_service: Callable[..., Service], receiver: Receiver
) -> None:
    service = start_service()
    status, code, msg = error_of(service, service.account(), notify_url=f"{receiver.url}/hook")
    assert (status, code) == (400, 5)
    assert "this server sends no webhooks: RAWEXPORT_WEBHOOK_HOSTS" in msg


def test_a_job_posts_its_signed_getprogress_answer_when_it_ends(
    service: Service, receiver: Receiver
) -> None:
    acc = service.account()
    service.load(acc.app_id, rows())
    job_id = submit(service, acc, notify_url=f"{receiver.url}/hooks?pipeline=hourly")
    decoy = submit(service, acc)  # asked for no notification

    [request] = receiver.wait_for(1)
    answer = wait_done(service, acc.token, job_id)
    wait_done(service, acc.token, decoy)

    secret = service.cli("space", "webhook-secret", acc.space_id)["webhook_secret"]
    signed = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-rawexport-signature"] == signed
    assert request.headers["x-rawexport-job"] == job_id
    assert request.path == "/hooks?pipeline=hourly"
    posted = json.loads(request.body)
    polled = answer.json()
    url = polled["data"]["result"]["url"]
    assert url.endswith(f"&user_token={acc.token}")
    polled["data"]["result"]["url"] = url.removesuffix(f"&user_token={acc.token}")
    assert posted == polled and posted["status_code"] == 201
    assert acc.token not in request.body.decode()
    wait_until(lambda: outbox_row(service.runtime.engine, job_id).delivered_at is not None)
    assert len(receiver.requests) == 1  # delivered: never sent again


def test_the_client_asks_for_a_notification(service: Service, receiver: Receiver) -> None:
    acc = service.account()
    service.load(acc.app_id, rows())

    with service.analyst(acc.token) as analyst:
        job_id = analyst.set_job(acc.app_id, NOW - 3600, NOW, ["tr"], notify_url=receiver.url)
        done = analyst.wait(job_id)

    [request] = receiver.wait_for(1)
    assert request.headers["x-rawexport-job"] == job_id
    assert json.loads(request.body)["data"]["result"]["snapshot"] == done.snapshot
