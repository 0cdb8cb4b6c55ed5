"""getprogress and download over real HTTP: states, the report URL, Range, the cap, expiry.

Range and If-Range are checked on a server keeping its reports in a local directory and on one
keeping them in S3 (a moto server standing in for it): one code path must answer both alike.
"""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rawexport.client import Client, RetryPolicy
from tests.client.conftest import CutOnceTransport
from tests.conftest import Account, LiveServer, ServerPool
from tests.s3_server import s3_client

NOW = int(time.time())
API = "/api/v1/rawexport"


def rows() -> list[dict[str, Any]]:
    return [
        {
            "event": "tr",
            "devtodev ID": uid,
            "time": (NOW - 600 + uid) * 1000,
            "step": 1,
            "level": 1,
            "isTester": False,
            "cheat": False,
            "install_date": NOW - 86400,
        }
        for uid in range(1, 6)
    ]


def post_setjob(server: LiveServer, acc: Account, **extra: Any) -> httpx.Response:
    """setjob for `acc`'s app, `tr` events of the hour before NOW, unless `extra` says otherwise."""
    body = {
        "user_token": acc.token,
        "app_id": acc.app_id,
        "start_date": NOW - 3600,
        "end_date": NOW,
        "events": ["tr"],
        **extra,
    }
    return httpx.post(f"{server.url}{API}/setjob", json=body, timeout=60)


def submit(server: LiveServer, acc: Account, **extra: Any) -> str:
    response = post_setjob(server, acc, **extra)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["data"]
    return job_id


def progress(server: LiveServer, token: str, job_id: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}{API}/getprogress", params={"user_token": token, "job_id": job_id}, timeout=30
    )


def wait_done(server: LiveServer, token: str, job_id: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = progress(server, token, job_id)
        if response.status_code not in (200, 202) or response.json()["data"]["status"] not in (
            "pending",
            "running",
        ):
            return response
        time.sleep(0.05)
    raise AssertionError("job did not finish")


@pytest.fixture(scope="module")
def account(shared_server: LiveServer) -> Account:
    acc = shared_server.account()
    shared_server.load(acc.app_id, rows())
    return acc


def test_complete_job_answers_201_with_an_absolute_url_that_downloads(
    shared_server: LiveServer, account: Account
) -> None:
    job = submit(shared_server, account)
    answer = wait_done(shared_server, account.token, job)
    assert answer.status_code == 201
    data = answer.json()
    assert data["status_code"] == 201
    result = data["data"]["result"]
    assert data["data"]["status"] == "complete" and data["data"]["percent_complete"] == 100
    assert result["msg"] == "Report file is ready" and result["format"] == "csv"
    assert result["url"] == (
        f"{shared_server.url}{API}/download/?job_id={job}&user_token={account.token}"
    )
    assert result["ttl"] == 86400
    assert abs(result["expire"] - (time.time() + 86400)) < 120
    report = httpx.get(result["url"], timeout=30)
    assert report.status_code == 200
    assert report.headers["content-type"] == "application/zip"
    assert f'filename="{job}.zip"' in report.headers["content-disposition"]
    assert int(report.headers["content-length"]) == len(report.content)
    names = zipfile.ZipFile(io.BytesIO(report.content)).namelist()
    assert {"tr.csv", "users.csv"} <= set(names)


def test_getprogress_by_get_json_post_and_form_post(
    shared_server: LiveServer, account: Account
) -> None:
    job = submit(shared_server, account)
    wait_done(shared_server, account.token, job)
    url = f"{shared_server.url}{API}/getprogress"
    fields = {"user_token": account.token, "job_id": job}
    answers = [
        httpx.get(url, params=fields),
        httpx.post(url, json=fields),
        httpx.post(url, content=__import__("json").dumps(fields)),
        httpx.post(url, data=fields),
    ]
    assert [a.status_code for a in answers] == [201] * 4


def test_empty_result_is_complete_with_200_and_only_the_message(
    shared_server: LiveServer, account: Account
) -> None:
    job = submit(shared_server, account, start_date=NOW - 7200, end_date=NOW - 3600)
    answer = wait_done(shared_server, account.token, job)
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
    shared_server: LiveServer, account: Account
) -> None:
    job = submit(shared_server, account)
    other = shared_server.account()
    for token, job_id in ((account.token, "no-such-job"), (other.token, job)):
        answer = progress(shared_server, token, job_id)
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["code"] == 22


def test_missing_job_id_is_code_4(shared_server: LiveServer, account: Account) -> None:
    answer = httpx.get(
        f"{shared_server.url}{API}/getprogress", params={"user_token": account.token}
    )
    assert answer.json()["errors"] == [{"code": 4, "msg": "Field not found: job_id"}]


def test_download_errors_in_order(shared_server: LiveServer, account: Account) -> None:
    job = submit(shared_server, account)
    wait_done(shared_server, account.token, job)
    url = f"{shared_server.url}{API}/download/"

    def code(**params: str) -> int:
        answer = httpx.get(url, params=params)
        assert answer.json()["status_code"] == answer.status_code
        result: int = answer.json()["errors"][0]["code"]
        return result

    other = shared_server.account()
    assert code(job_id=job) == 12
    assert code(job_id=job, user_token="wrong") == 11
    assert code(job_id="nope", user_token=account.token) == 22
    assert code(job_id=job, user_token=other.token) == 14


def test_download_without_trailing_slash(shared_server: LiveServer, account: Account) -> None:
    job = submit(shared_server, account)
    wait_done(shared_server, account.token, job)
    answer = httpx.get(
        f"{shared_server.url}{API}/download", params={"job_id": job, "user_token": account.token}
    )
    assert answer.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(answer.content)).testzip() is None


def test_revoked_app_denies_the_download(shared_server: LiveServer) -> None:
    acc = shared_server.account()
    shared_server.load(acc.app_id, rows())
    job = submit(shared_server, acc)
    url = wait_done(shared_server, acc.token, job).json()["data"]["result"]["url"]
    shared_server.cli("app", "revoke", acc.user_id, acc.app_id)
    answer = httpx.get(url)
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (403, 14)


def test_token_reset_stops_the_old_token_at_once(shared_server: LiveServer) -> None:
    acc = shared_server.account()
    new = shared_server.cli("token", "reset", acc.user_id)["user_token"]
    old = progress(shared_server, acc.token, "x")
    assert (old.status_code, old.json()["errors"][0]["code"]) == (401, 11)
    assert progress(shared_server, new, "x").json()["errors"][0]["code"] == 22


@pytest.fixture(scope="module", params=["local", "s3"])
def backend_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose reports are in a local directory, or in a fresh S3 bucket."""
    # These tests download one report many times; the cap has tests of its own (test_limits).
    settings = {"RAWEXPORT_MIN_JOB_INTERVAL_S": "0", "RAWEXPORT_MAX_DOWNLOADS": "1000"}
    if request.param == "s3":
        s3_env: dict[str, str] = request.getfixturevalue("s3_env")
        bucket = f"rawexport-{uuid.uuid4().hex[:12]}"
        s3_client(s3_env).create_bucket(Bucket=bucket)
        settings |= {**s3_env, "RAWEXPORT_REPORTS_URL": f"s3://{bucket}/reports"}
    pool = ServerPool(tmp_path_factory)
    yield pool.start(**settings)
    pool.stop_all()


@pytest.fixture(scope="module")
def report_url(backend_server: LiveServer) -> str:
    acc = backend_server.account()
    backend_server.load(acc.app_id, rows())
    done = wait_done(backend_server, acc.token, submit(backend_server, acc))
    url: str = done.json()["data"]["result"]["url"]
    return url


def test_head_answers_the_headers_of_the_report_without_a_body(report_url: str) -> None:
    whole = httpx.get(report_url)
    head = httpx.head(report_url)

    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(whole.content)
    for name in ("content-type", "content-disposition", "etag", "last-modified"):
        assert head.headers[name] == whole.headers[name]
    assert head.headers["accept-ranges"] == "bytes"
    assert head.headers["content-type"] == "application/zip"
    job_id = httpx.URL(report_url).params["job_id"]
    assert head.headers["content-disposition"] == f'attachment; filename="{job_id}.zip"'


@pytest.mark.parametrize(
    ("range_header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=10-", 10, None),
        ("bytes=-7", -7, None),
        ("bytes=5-999999999", 5, None),
    ],
)
def test_one_range_is_answered_206_with_exactly_its_bytes(
    report_url: str, range_header: str, first: int, last: int | None
) -> None:
    whole = httpx.get(report_url).content
    expected = whole[first : None if last is None else last + 1]
    start = first % len(whole)

    part = httpx.get(report_url, headers={"Range": range_header})

    assert part.status_code == 206 and part.content == expected
    assert (
        part.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{len(whole)}"
    )
    assert int(part.headers["content-length"]) == len(expected)


def test_a_range_past_the_end_is_416_and_several_ranges_are_answered_whole(
    report_url: str,
) -> None:
    whole = httpx.get(report_url).content

    past = httpx.get(report_url, headers={"Range": f"bytes={len(whole)}-"})
    several = httpx.get(report_url, headers={"Range": "bytes=0-1,5-6"})

    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(whole)}"
    assert (several.status_code, several.content) == (200, whole)


def test_if_range_resumes_only_the_same_version(report_url: str) -> None:
    first = httpx.get(report_url)
    whole = first.content

    def resume(if_range: str) -> httpx.Response:
        return httpx.get(report_url, headers={"Range": "bytes=100-", "If-Range": if_range})

    by_etag, by_date = resume(first.headers["etag"]), resume(first.headers["last-modified"])
    other = resume('"another version"')

    assert (by_etag.status_code, by_etag.content) == (206, whole[100:])
    assert (by_date.status_code, by_date.content) == (206, whole[100:])
    assert (other.status_code, other.content) == (200, whole)


def stored_report(server: LiveServer, job_id: str) -> bytes:
    """The report as its store holds it, read behind the server's back."""
    url = server.env.get("RAWEXPORT_REPORTS_URL")
    if url is None:
        return (server.data_dir / "reports" / f"{job_id}.zip").read_bytes()
    location = httpx.URL(url)
    stored = s3_client(server.env).get_object(
        Bucket=location.host, Key=f"{location.path.strip('/')}/{job_id}.zip"
    )
    return stored["Body"].read()


def test_the_download_whole_and_resumed_is_the_stored_report(
    backend_server: LiveServer, report_url: str
) -> None:
    job_id = httpx.URL(report_url).params["job_id"]
    stored = stored_report(backend_server, job_id)

    whole = httpx.get(report_url)
    cut = len(stored) // 3
    resumed = httpx.get(
        report_url, headers={"Range": f"bytes={cut}-", "If-Range": whole.headers["etag"]}
    )

    assert whole.content == stored
    assert resumed.status_code == 206 and whole.content[:cut] + resumed.content == stored
    assert zipfile.ZipFile(io.BytesIO(whole.content)).testzip() is None


def test_an_s3_bucket_holds_only_published_reports(backend_server: LiveServer) -> None:
    url = backend_server.env.get("RAWEXPORT_REPORTS_URL")
    if url is None:
        pytest.skip("S3 only: the local directory's leftovers are in tests/reports")
    acc = backend_server.account()
    backend_server.load(acc.app_id, rows())
    jobs = [submit(backend_server, acc) for _ in range(3)]
    empty = submit(backend_server, acc, start_date=NOW - 7200, end_date=NOW - 3600)
    for job in [*jobs, empty]:
        wait_done(backend_server, acc.token, job)

    bucket = httpx.URL(url).host
    client = s3_client(backend_server.env)
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert {f"reports/{job}.zip" for job in jobs} <= keys
    assert f"reports/{empty}.zip" not in keys
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_the_client_resumes_a_dropped_download_from_either_store(
    backend_server: LiveServer, report_url: str, tmp_path: Path
) -> None:
    link = httpx.URL(report_url)
    cut_once = CutOnceTransport()
    quick = RetryPolicy(base_delay=0.05)
    with Client(
        backend_server.url, link.params["user_token"], transport=cut_once, retry=quick
    ) as c:
        resumed = c.download(report_url, tmp_path / "resumed.zip")
    cut_once.close()

    assert cut_once.cut_at is not None
    assert cut_once.download_ranges == [None, f"bytes={cut_once.cut_at}-"]
    assert resumed.read_bytes() == stored_report(backend_server, link.params["job_id"])
