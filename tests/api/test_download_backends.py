"""Downloads from either report store: a server keeping its reports in a local directory and one
keeping them in S3 (a moto server standing in for it) must answer Range, If-Range and HEAD alike,
with the bytes the store holds.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rawexport.client import Client, RetryPolicy
from tests.api.conftest import OverHttp
from tests.api.jobs import NOW, rows, submit, wait_done
from tests.client.conftest import CutOnceTransport
from tests.conftest import LiveServer, ServerPool
from tests.s3_server import s3_client


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
    with OverHttp.of(backend_server) as api:
        done = wait_done(api, acc.token, submit(api, acc))
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
    with OverHttp.of(backend_server) as api:
        jobs = [submit(api, acc) for _ in range(3)]
        empty = submit(api, acc, start_date=NOW - 7200, end_date=NOW - 3600)
        for job in [*jobs, empty]:
            wait_done(api, acc.token, job)

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
