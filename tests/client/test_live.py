"""The client against the real server on loopback: `rawexport serve` in a child process."""

from __future__ import annotations

import asyncio
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pandas
import pytest

from rawexport.client import (
    AsyncClient,
    AuthError,
    Client,
    NotFound,
    Progress,
    QuotaExceeded,
    RateLimited,
    RetryPolicy,
)
from rawexport.client.errors import next_utc_midnight

from .conftest import CutOnceTransport, Loaded, RecordingTransport, RetryLog, load_tutorial

if TYPE_CHECKING:
    from tests.conftest import LiveServer

EMPTY = "Unfortunately the result of your request is empty."


def tutorial_ids(archive: Path) -> list[int]:
    with zipfile.ZipFile(archive) as zf:
        frame = pandas.read_csv(zf.open("tr.csv"))
    return sorted(frame["devtodev ID"].tolist())


def test_export_sets_waits_downloads_and_reads(tutorial: Loaded, tmp_path: Path) -> None:
    seen: list[Progress] = []
    with Client(tutorial.server.url, tutorial.account.token) as client:
        report = client.export(
            tutorial.account.app_id,
            tutorial.start,
            tutorial.end,
            ["tr"],
            directory=tmp_path,
            on_progress=seen.append,
        )
    assert report.path is not None and report.path.parent == tmp_path
    assert report.rows["tr.csv"] == len(tutorial.rows)
    assert report.rows["users.csv"] == 50
    assert seen[-1].complete and seen[-1].link is not None
    assert [p.percent for p in seen] == sorted(p.percent for p in seen)
    assert tutorial_ids(report.path) == sorted(r["devtodev ID"] for r in tutorial.rows)
    frames = report.to_polars()
    assert frames["tr"].height == len(tutorial.rows)
    assert sorted(frames["users"]["devtodev ID"].to_list()) == list(range(1, 51))
    assert not list(tmp_path.glob("*.part"))


def test_async_export_gives_the_same_report(tutorial: Loaded, tmp_path: Path) -> None:
    async def run() -> Path | None:
        async with AsyncClient(tutorial.server.url, tutorial.account.token) as client:
            report = await client.export(
                tutorial.account.app_id,
                tutorial.start,
                tutorial.end,
                ["tr"],
                directory=tmp_path,
                report_format="jsonl",
            )
        assert report.rows["tr.jsonl"] == len(tutorial.rows)
        assert report.to_pandas()["tr"]["step"].tolist().count(3) == sum(
            1 for r in tutorial.rows if r["step"] == 3
        )
        return report.path

    assert asyncio.run(run()) is not None


def test_an_empty_window_is_an_empty_report(tutorial: Loaded, tmp_path: Path) -> None:
    with Client(tutorial.server.url, tutorial.account.token) as client:
        report = client.export(
            tutorial.account.app_id, tutorial.start - 3600, tutorial.start, directory=tmp_path
        )
    assert report.path is None and report.files == ()
    assert report.message.startswith(EMPTY)
    assert list(tmp_path.iterdir()) == []


def test_a_dropped_download_resumes_where_it_stopped(
    shared_server: LiveServer,
    cut_once: CutOnceTransport,
    tmp_path: Path,
    retry_log: tuple[RetryLog, Callable[[Exception, float], None]],
) -> None:
    loaded = load_tutorial(shared_server, shared_server.account(), 20000)
    log, on_retry = retry_log
    url, token = shared_server.url, loaded.account.token
    with Client(url, token, transport=cut_once, on_retry=on_retry) as client:
        job_id = client.set_job(loaded.account.app_id, loaded.start, loaded.end, ["tr"])
        link = client.wait(job_id).link
        assert link is not None
        resumed = client.download(link.url, tmp_path / "resumed.zip")
    assert cut_once.cut_at is not None and cut_once.cut_at > 0
    assert cut_once.download_ranges == [None, f"bytes={cut_once.cut_at}-"]
    assert [type(e) for e, _ in log] == [httpx.ReadError]
    whole = httpx.get(link.url).content  # a second, uncut download of the same report
    assert resumed.read_bytes() == whole
    assert tutorial_ids(resumed) == sorted(r["devtodev ID"] for r in loaded.rows)


@pytest.mark.parametrize("client_kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("left", "status"), [("half", 206), ("another file's bytes", 200), ("all", 416)]
)
def test_a_later_run_resumes_what_an_interrupted_one_left(
    tutorial: Loaded, tmp_path: Path, client_kind: str, left: str, status: int
) -> None:
    url, token = tutorial.server.url, tutorial.account.token
    with Client(url, token) as client:
        job_id = client.set_job(tutorial.account.app_id, tutorial.start, tutorial.end, ["tr"])
        link = client.wait(job_id).link
    assert link is not None
    whole = httpx.get(link.url)
    etag = whole.headers["etag"]
    kept, noted = {
        "half": (whole.content[: len(whole.content) // 2], etag),
        "another file's bytes": (b"PK" * 700, '"an older report"'),
        "all": (whole.content, etag),
    }[left]
    # What a run killed before publishing leaves beside its target.
    target = tmp_path / "report.zip"
    (tmp_path / "report.zip.part").write_bytes(kept)
    (tmp_path / "report.zip.part.etag").write_text(noted)

    recording = RecordingTransport()
    if client_kind == "sync":
        with Client(url, token, transport=recording) as client:
            published = client.download(link.url, target)
    else:

        async def download() -> Path:
            async with AsyncClient(url, token, transport=recording) as client:
                return await client.download(link.url, target)

        published = asyncio.run(download())

    assert published == target and target.read_bytes() == whole.content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.zip"]
    assert recording.downloads == [(f"bytes={len(kept)}-", noted, status)]


def test_frequency_limit_is_waited_out(
    start_server: Callable[..., LiveServer], retry_log: tuple[RetryLog, Callable[..., None]]
) -> None:
    server = start_server(RAWEXPORT_MIN_JOB_INTERVAL_S="2")
    loaded = load_tutorial(server, server.account(), 10)
    log, on_retry = retry_log
    with Client(server.url, loaded.account.token, on_retry=on_retry) as client:
        first = client.set_job(loaded.account.app_id, loaded.start, loaded.end)
        accepted_first = time.monotonic()
        second = client.set_job(loaded.account.app_id, loaded.start, loaded.end)
        waited = time.monotonic() - accepted_first
    assert first != second
    assert log and all(isinstance(e, RateLimited) and e.code == 20 for e, _ in log)
    assert waited >= 1.0  # the server accepts nothing sooner than 2 s after the first job
    assert sum(delay for _, delay in log) <= 4.0


def test_concurrency_limit_is_waited_for_a_bounded_time(
    start_server: Callable[..., LiveServer], retry_log: tuple[RetryLog, Callable[..., None]]
) -> None:
    # No export worker: the first job stays pending, so the limit never clears.
    server = start_server(
        RAWEXPORT_MIN_JOB_INTERVAL_S="0", RAWEXPORT_MAX_CONCURRENT_JOBS="1", RAWEXPORT_WORKERS="0"
    )
    loaded = load_tutorial(server, server.account(), 10)
    log, on_retry = retry_log
    policy = RetryPolicy(rate_limit_wait=6.0)
    with Client(server.url, loaded.account.token, retry=policy, on_retry=on_retry) as client:
        client.set_job(loaded.account.app_id, loaded.start, loaded.end)
        with pytest.raises(RateLimited) as raised:
            client.set_job(loaded.account.app_id, loaded.start, loaded.end)
    assert raised.value.code == 17
    assert log and all(isinstance(e, RateLimited) and e.code == 17 for e, _ in log)
    assert 0 < sum(delay for _, delay in log) <= 6.0


def test_daily_quota_stops_at_once_with_the_time_to_retry(
    start_server: Callable[..., LiveServer], retry_log: tuple[RetryLog, Callable[..., None]]
) -> None:
    server = start_server(RAWEXPORT_MIN_JOB_INTERVAL_S="0", RAWEXPORT_JOBS_PER_DAY_USER="1")
    loaded = load_tutorial(server, server.account(), 10)
    log, on_retry = retry_log
    with Client(server.url, loaded.account.token, on_retry=on_retry) as client:
        client.set_job(loaded.account.app_id, loaded.start, loaded.end)
        with pytest.raises(QuotaExceeded) as raised:
            client.set_job(loaded.account.app_id, loaded.start, loaded.end)
    assert raised.value.code == 18 and raised.value.status == 429
    assert log == []
    # The quota resets at 00:00 UTC, and the server's Retry-After says so.
    expected = next_utc_midnight(datetime.now(UTC))
    assert abs((raised.value.retry_at - expected).total_seconds()) <= 5


def test_typed_errors_from_the_server(tutorial: Loaded) -> None:
    with (
        Client(tutorial.server.url, "not-a-token", retry=RetryPolicy(attempts=1)) as client,
        pytest.raises(AuthError) as wrong_token,
    ):
        client.set_job(tutorial.account.app_id, tutorial.start, tutorial.end)
    assert wrong_token.value.code == 11
    with (
        Client(tutorial.server.url, tutorial.account.token) as client,
        pytest.raises(NotFound) as unknown_job,
    ):
        client.get_progress("no-such-job")
    assert unknown_job.value.code == 22


def test_a_parquet_report_reads_into_pandas(tutorial: Loaded, tmp_path: Path) -> None:
    with Client(tutorial.server.url, tutorial.account.token) as client:
        report = client.export(
            tutorial.account.app_id,
            tutorial.start,
            tutorial.end,
            ["tr"],
            directory=tmp_path,
            report_format="parquet",
        )
    frames = report.to_pandas()
    assert len(frames["tr"]) == len(tutorial.rows)
    assert sorted(frames["tr"]["step"].unique().tolist()) == list(range(7))
