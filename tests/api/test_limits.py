"""Limits through the ASGI app: quotas under concurrent requests, the download cap,
report expiry."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tests.api.conftest import Service
from tests.api.jobs import API, post_setjob, rows, submit, wait_done
from tests.conftest import Account


def setjob_status(server: Service, acc: Account) -> tuple[int, int | None, str | None]:
    answer = post_setjob(server, acc)
    errors = answer.json().get("errors")
    return (
        answer.status_code,
        errors[0]["code"] if errors else None,
        answer.headers.get("retry-after"),
    )


def burst(server: Service, acc: Account, n: int) -> list[tuple[int, int | None, str | None]]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: setjob_status(server, acc), range(n)))


def test_simultaneous_requests_pass_the_frequency_check_once(
    metadata_url: str, start_service: Callable[..., Service]
) -> None:
    server = start_service(
        min_job_interval_s=300,
        workers=0,
        database_url=metadata_url,
    )
    acc = server.account()
    answers = burst(server, acc, 16)
    assert Counter(code for _, code, _ in answers) == {None: 1, 20: 15}
    assert all(s == 429 and int(r or 0) > 0 for s, c, r in answers if c == 20)


def test_simultaneous_requests_respect_the_concurrency_limit(
    metadata_url: str, start_service: Callable[..., Service]
) -> None:
    server = start_service(
        min_job_interval_s=0,
        max_concurrent_jobs=3,
        workers=0,
        database_url=metadata_url,
    )
    acc = server.account()
    answers = burst(server, acc, 16)
    assert Counter(code for _, code, _ in answers) == {None: 3, 17: 13}
    assert all(s == 403 and r is not None for s, c, r in answers if c == 17)


def test_daily_quotas_of_user_and_space(
    metadata_url: str, start_service: Callable[..., Service]
) -> None:
    server = start_service(
        database_url=metadata_url,
        min_job_interval_s=0,
        jobs_per_day_user=3,
        jobs_per_day_space=4,
        workers=0,
        max_concurrent_jobs=100,
    )
    first = server.account()
    answers = burst(server, first, 8)
    assert Counter(code for _, code, _ in answers) == {None: 3, 18: 5}
    status, _, retry = next(a for a in answers if a[1] == 18)
    seconds_to_midnight = 86400 - int(time.time()) % 86400
    assert status == 429 and abs(int(retry or 0) - seconds_to_midnight) < 120
    user = server.cli("user", "create", "--space", first.space_id, "--email", "b@x.io")
    server.cli("app", "grant", user["user_id"], first.app_id)
    second = Account(first.space_id, user["user_id"], user["user_token"], first.app_id)
    assert [setjob_status(server, second)[1] for _ in range(2)] == [None, 19]


def test_download_cap_counts_whole_downloads_only(start_service: Callable[..., Service]) -> None:
    server = start_service(max_downloads=2)
    acc = server.account()
    server.load(acc.app_id, rows())
    url = wait_done(server, acc.token, submit(server, acc)).json()["data"]["result"]["url"]
    first = server.client.get(url)
    assert first.status_code == 200
    resume = {"Range": "bytes=5-", "If-Range": first.headers["etag"]}
    assert server.client.get(url, headers=resume).status_code == 206
    assert server.client.head(url).status_code == 200
    # A Range with an If-Range that names another file gets the whole file: a download.
    whole = server.client.get(url, headers={**resume, "If-Range": '"another file"'})
    assert (whole.status_code, whole.content) == (200, first.content)
    denied = server.client.get(url, headers={"Range": "bytes=0-"})
    assert denied.status_code == 403
    (error,) = denied.json()["errors"]
    assert error["code"] == 14 and "at most 2 times" in error["msg"]
    assert server.client.get(url, headers=resume).status_code == 206  # resuming stays possible


def test_expired_report_is_gone(start_service: Callable[..., Service]) -> None:
    server = start_service(report_ttl_s=1, sweep_interval_s=1)
    acc = server.account()
    server.load(acc.app_id, rows())
    job = submit(server, acc)
    done = wait_done(server, acc.token, job).json()["data"]["result"]
    assert done["ttl"] == 1
    while time.time() < done["expire"]:
        time.sleep(0.1)
    answer = server.client.get(
        f"{API}/getprogress", params={"user_token": acc.token, "job_id": job}
    )
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, 22)
    gone = server.client.get(done["url"])
    assert (gone.status_code, gone.json()["errors"][0]["code"]) == (404, 21)
    report = server.data_dir / "reports" / f"{job}.zip"
    deadline = time.monotonic() + 30
    while report.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not report.exists(), "the sweeper did not delete the expired report"
