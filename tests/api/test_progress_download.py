"""getprogress and download through the ASGI app: states, the report URL, Range, the cap, expiry."""

from __future__ import annotations

import io
import json
import sqlite3
import time
import zipfile
from collections.abc import Callable
from contextlib import closing

import pytest

from tests.api.conftest import Service
from tests.api.jobs import API, NOW, progress, rows, submit, wait_done
from tests.conftest import Account


@pytest.fixture(scope="module")
def account(shared_service: Service) -> Account:
    acc = shared_service.account()
    shared_service.load(acc.app_id, rows())
    return acc


def test_complete_job_answers_201_with_an_absolute_url_that_downloads(
    shared_service: Service, account: Account
) -> None:
    job = submit(shared_service, account)
    answer = wait_done(shared_service, account.token, job)
    assert answer.status_code == 201
    data = answer.json()
    assert data["status_code"] == 201
    result = data["data"]["result"]
    assert data["data"]["status"] == "complete" and data["data"]["percent_complete"] == 100
    assert result["msg"] == "Report file is ready" and result["format"] == "csv"
    assert result["url"] == (
        f"http://testserver{API}/download/?job_id={job}&user_token={account.token}"
    )
    assert result["ttl"] == 86400
    assert abs(result["expire"] - (time.time() + 86400)) < 120
    report = shared_service.client.get(result["url"])
    assert report.status_code == 200
    assert report.headers["content-type"] == "application/zip"
    assert f'filename="{job}.zip"' in report.headers["content-disposition"]
    assert int(report.headers["content-length"]) == len(report.content)
    names = zipfile.ZipFile(io.BytesIO(report.content)).namelist()
    assert {"tr.csv", "users.csv"} <= set(names)


def test_getprogress_by_get_json_post_and_form_post(
    shared_service: Service, account: Account
) -> None:
    job = submit(shared_service, account)
    wait_done(shared_service, account.token, job)
    url = f"{API}/getprogress"
    fields = {"user_token": account.token, "job_id": job}
    answers = [
        shared_service.client.get(url, params=fields),
        shared_service.client.post(url, json=fields),
        shared_service.client.post(url, content=json.dumps(fields)),
        shared_service.client.post(url, data=fields),
    ]
    assert [a.status_code for a in answers] == [201] * 4


def test_empty_result_is_complete_with_200_and_only_the_message(
    shared_service: Service, account: Account
) -> None:
    job = submit(shared_service, account, start_date=NOW - 7200, end_date=NOW - 3600)
    answer = wait_done(shared_service, account.token, job)
    assert answer.status_code == 200
    assert answer.json() == {
        "status_code": 200,
        "data": {
            "status": "complete",
            "percent_complete": 100,
            "result": {
                "msg": "Unfortunately the result of your request is empty. "
                "Please try to change the report conditions."
            },
        },
    }


def test_unknown_job_or_another_users_job_is_code_22(
    shared_service: Service, account: Account
) -> None:
    job = submit(shared_service, account)
    other = shared_service.account()
    for token, job_id in ((account.token, "no-such-job"), (other.token, job)):
        answer = progress(shared_service, token, job_id)
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["code"] == 22


def test_missing_job_id_is_code_4(shared_service: Service, account: Account) -> None:
    answer = shared_service.client.get(f"{API}/getprogress", params={"user_token": account.token})
    assert answer.json()["errors"] == [{"code": 4, "msg": "Field not found: job_id"}]


def test_download_resumes_with_range_and_head_answers_headers(
    shared_service: Service, account: Account
) -> None:
    job = submit(shared_service, account)
    url = wait_done(shared_service, account.token, job).json()["data"]["result"]["url"]
    whole = shared_service.client.get(url).content
    head = shared_service.client.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(whole)
    assert head.content == b""
    tail = shared_service.client.get(url, headers={"Range": "bytes=10-"})
    assert tail.status_code == 206
    assert tail.content == whole[10:]


def test_download_errors_in_order(shared_service: Service, account: Account) -> None:
    job = submit(shared_service, account)
    wait_done(shared_service, account.token, job)
    url = f"{API}/download/"

    def code(**params: str) -> int:
        answer = shared_service.client.get(url, params=params)
        assert answer.json()["status_code"] == answer.status_code
        result: int = answer.json()["errors"][0]["code"]
        return result

    other = shared_service.account()
    assert code(job_id=job) == 12
    assert code(job_id=job, user_token="wrong") == 11
    assert code(job_id="nope", user_token=account.token) == 22
    assert code(job_id=job, user_token=other.token) == 14


def test_download_without_trailing_slash(shared_service: Service, account: Account) -> None:
    job = submit(shared_service, account)
    wait_done(shared_service, account.token, job)
    answer = shared_service.client.get(
        f"{API}/download", params={"job_id": job, "user_token": account.token}
    )
    assert answer.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(answer.content)).testzip() is None


def test_revoked_app_denies_the_download(shared_service: Service) -> None:
    acc = shared_service.account()
    shared_service.load(acc.app_id, rows())
    job = submit(shared_service, acc)
    url = wait_done(shared_service, acc.token, job).json()["data"]["result"]["url"]
    shared_service.cli("app", "revoke", acc.user_id, acc.app_id)
    answer = shared_service.client.get(url)
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (403, 14)


def test_token_reset_stops_the_old_token_at_once(shared_service: Service) -> None:
    acc = shared_service.account()
    new = shared_service.cli("token", "reset", acc.user_id)["user_token"]
    old = progress(shared_service, acc.token, "x")
    assert (old.status_code, old.json()["errors"][0]["code"]) == (401, 11)
    assert progress(shared_service, new, "x").json()["errors"][0]["code"] == 22


def test_getprogress_answers_alike_on_sqlite_and_postgresql(
    metadata_url: str, start_service: Callable[..., Service]
) -> None:
    service = start_service(database_url=metadata_url, min_job_interval_s=0)
    acc, other = service.account(), service.account()
    service.load(acc.app_id, rows())
    job = submit(service, acc)
    assert progress(service, acc.token, job).status_code in (200, 201, 202)
    done = wait_done(service, acc.token, job)
    assert (done.status_code, done.json()["data"]["result"]["format"]) == (201, "csv")
    codes = {
        "wrong token": progress(service, "wrong", job),
        "another user's job": progress(service, other.token, job),
        "no such job": progress(service, acc.token, "nope"),
    }
    assert {name: a.json()["errors"][0]["code"] for name, a in codes.items()} == {
        "wrong token": 11,
        "another user's job": 22,
        "no such job": 22,
    }
    service.cli("user", "set", acc.user_id, "--no-raw-export")
    assert progress(service, acc.token, job).json()["errors"][0]["code"] == 16


def test_getprogress_does_not_wait_for_the_sqlite_write_lock(
    start_service: Callable[..., Service],
) -> None:
    service = start_service(workers=0)
    acc = service.account()
    job = submit(service, acc)
    with closing(
        sqlite3.connect(service.data_dir / "meta.sqlite3", isolation_level=None)
    ) as writer:
        writer.execute("BEGIN IMMEDIATE")  # what a heartbeat or a setjob holds for a moment
        started = time.monotonic()
        assert progress(service, acc.token, job).status_code == 202
        writer.execute("ROLLBACK")
    assert time.monotonic() - started < 1  # the busy timeout is 30 s
