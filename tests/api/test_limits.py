"""The limits over real HTTP: quotas under concurrent requests, the download cap,
report expiry."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.test_progress_download import API, post_setjob, rows, submit, wait_done
from tests.conftest import Account, LiveServer


def setjob_status(server: LiveServer, acc: Account) -> tuple[int, int | None, str | None]:
    answer = post_setjob(server, acc)
    errors = answer.json().get("errors")
    return (
        answer.status_code,
        errors[0]["code"] if errors else None,
        answer.headers.get("retry-after"),
    )


def burst(server: LiveServer, acc: Account, n: int) -> list[tuple[int, int | None, str | None]]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: setjob_status(server, acc), range(n)))


def test_simultaneous_requests_pass_the_frequency_check_once(
    metadata_url: str, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(
        RAWEXPORT_MIN_JOB_INTERVAL_S="300",
        RAWEXPORT_WORKERS="0",
        RAWEXPORT_DATABASE_URL=metadata_url,
    )
    acc = server.account()
    answers = burst(server, acc, 16)
    assert Counter(code for _, code, _ in answers) == {None: 1, 20: 15}
    assert all(s == 429 and int(r or 0) > 0 for s, c, r in answers if c == 20)


def test_simultaneous_requests_respect_the_concurrency_limit(
    metadata_url: str, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(
        RAWEXPORT_MIN_JOB_INTERVAL_S="0",
        RAWEXPORT_MAX_CONCURRENT_JOBS="3",
        RAWEXPORT_WORKERS="0",
        RAWEXPORT_DATABASE_URL=metadata_url,
    )
    acc = server.account()
    answers = burst(server, acc, 16)
    assert Counter(code for _, code, _ in answers) == {None: 3, 17: 13}
    assert all(s == 403 and r is not None for s, c, r in answers if c == 17)


def test_daily_quotas_of_user_and_space(
    metadata_url: str, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(
        RAWEXPORT_DATABASE_URL=metadata_url,
        RAWEXPORT_MIN_JOB_INTERVAL_S="0",
        RAWEXPORT_JOBS_PER_DAY_USER="3",
        RAWEXPORT_JOBS_PER_DAY_SPACE="4",
        RAWEXPORT_WORKERS="0",
        RAWEXPORT_MAX_CONCURRENT_JOBS="100",
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


def test_download_cap_counts_whole_downloads_only(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(RAWEXPORT_MAX_DOWNLOADS="2")
    acc = server.account()
    server.load(acc.app_id, rows())
    url = wait_done(server, acc.token, submit(server, acc)).json()["data"]["result"]["url"]
    first = httpx.get(url)
    assert first.status_code == 200
    resume = {"Range": "bytes=5-", "If-Range": first.headers["etag"]}
    assert httpx.get(url, headers=resume).status_code == 206
    assert httpx.head(url).status_code == 200
    # A Range with an If-Range that names another file gets the whole file: a download.
    whole = httpx.get(url, headers={**resume, "If-Range": '"another file"'})
    assert (whole.status_code, whole.content) == (200, first.content)
    denied = httpx.get(url, headers={"Range": "bytes=0-"})
    assert denied.status_code == 403
    (error,) = denied.json()["errors"]
    assert error["code"] == 14 and "at most 2 times" in error["msg"]
    assert httpx.get(url, headers=resume).status_code == 206  # resuming stays possible


def test_expired_report_is_gone(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(RAWEXPORT_REPORT_TTL_S="1", RAWEXPORT_SWEEP_INTERVAL_S="1")
    acc = server.account()
    server.load(acc.app_id, rows())
    job = submit(server, acc)
    done = wait_done(server, acc.token, job).json()["data"]["result"]
    assert done["ttl"] == 1
    while time.time() < done["expire"]:
        time.sleep(0.1)
    answer = httpx.get(
        f"{server.url}{API}/getprogress", params={"user_token": acc.token, "job_id": job}
    )
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, 22)
    gone = httpx.get(done["url"])
    assert (gone.status_code, gone.json()["errors"][0]["code"]) == (404, 21)
    report = server.data_dir / "reports" / f"{job}.zip"
    deadline = time.monotonic() + 30
    while report.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not report.exists(), "the sweeper did not delete the expired report"
