"""Choosing a report store by URL, a local store's permissions, and S3 errors as one line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rawexport.reports import LocalReportStore, ReportStoreError, open_reports
from rawexport.reports.s3 import S3ReportStore


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_a_path_or_file_url_is_a_local_directory(tmp_path: Path) -> None:
    by_path = open_reports(str(tmp_path / "a"))
    by_url = open_reports((tmp_path / "b").as_uri())

    assert isinstance(by_path, LocalReportStore) and by_path.directory == tmp_path / "a"
    assert isinstance(by_url, LocalReportStore) and by_url.directory == tmp_path / "b"


def test_an_s3_url_is_a_bucket_and_prefix(s3_reports_url: str) -> None:
    reports = open_reports(s3_reports_url + "/")

    assert isinstance(reports, S3ReportStore) and reports.prefix == "reports/"


@pytest.mark.parametrize("url", ["ftp://host/reports", "file://elsewhere/reports", "s3:///x"])
def test_other_urls_are_refused_with_the_accepted_forms(url: str) -> None:
    with pytest.raises(ValueError, match=r"(file:///|s3://BUCKET)"):
        open_reports(url)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077], indirect=True)
def test_local_reports_are_private_whatever_the_umask(umask: int, tmp_path: Path) -> None:
    reports = open_reports(str(tmp_path / "made" / "reports"))
    with reports.writer("job.zip") as out:
        out.write(b"PK")
        temporary = next((tmp_path / "made" / "reports").iterdir())
        assert stat.S_IMODE(temporary.stat().st_mode) == 0o600
        out.commit()

    assert stat.S_IMODE((tmp_path / "made" / "reports").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "made" / "reports" / "job.zip").stat().st_mode) == 0o600


def test_a_missing_bucket_is_named_in_one_line(s3_reports_url: str) -> None:
    with pytest.raises(ReportStoreError) as caught:
        open_reports("s3://no-such-bucket-here/reports")

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("report storage s3://no-such-bucket-here/reports/ at http://")
    assert message.endswith("the bucket does not exist")


def test_missing_credentials_name_the_variables(
    s3_reports_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(ReportStoreError, match="no credentials; check AWS_ACCESS_KEY_ID"):
        open_reports(s3_reports_url)


def test_serve_with_a_missing_bucket_stops_with_one_line(
    s3_env: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAWEXPORT_", "AWS_"))}
    env |= {**s3_env, "RAWEXPORT_REPORTS_URL": "s3://no-such-bucket-here/reports"}
    serve = [sys.executable, "-m", "rawexport.cli.main", "serve", "--data-dir", str(tmp_path)]

    out = subprocess.run(serve, env=env, capture_output=True, text=True, timeout=120)

    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"Error: report storage s3://no-such-bucket-here/reports/ at {s3_env['AWS_ENDPOINT_URL']}:"
        " the bucket does not exist"
    ]
