"""An S3-compatible server for the test session, and the fixtures that hand it out.

moto's server mode stands in for S3: a separate process speaking the S3 HTTP API on a free
loopback port, keeping objects in its memory. The code under test talks to it exactly as to S3,
through boto3 and the standard AWS variables; it is not a real S3 (no durability, no limits).

`s3_env` is the AWS_* variables that reach it; `s3_reports_url` a fresh bucket for one test,
with those variables set in this process; `report_store_url` runs a test once on a local
directory and once on S3, as `metadata_url` does for SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest

from tests.loopback import free_port, listens

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["MotoServer", "report_store_url", "s3_client", "s3_env", "s3_reports_url"]

_START_TIMEOUT_S = 60


class MotoServer:
    """moto's server mode in a child process on a free loopback port, until `stop`.

    The bench of a fleet (bench/fleet_bench.py) starts it too, so how to start it is said once.
    """

    def __init__(self, log: Path) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        with log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self.pid = self._process.pid
        try:
            _wait_until_it_answers(self._process, port, log)
        except AssertionError:
            self.stop()
            raise
        self.env = {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "rawexport-test",
            "AWS_SECRET_ACCESS_KEY": "rawexport-test-secret",
            "AWS_REGION": "us-east-1",
            # The machine's own AWS set-up must not leak into the tests.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        """The AWS_* variables that reach this server."""

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)


def _wait_until_it_answers(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the S3 server exited: {log.read_text()[-3000:]}")
        try:
            if listens(process.pid, port):  # not another process that took the port
                httpx.get(f"http://127.0.0.1:{port}", timeout=1)
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the S3 server did not answer")


@pytest.fixture(scope="session")
def s3_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The AWS_* variables of a moto server started for this session."""
    server = MotoServer(tmp_path_factory.mktemp("s3") / "moto.log")
    try:
        yield server.env
    finally:
        server.stop()


def s3_client(env: dict[str, str]) -> S3Client:
    """A client of the test server, to look into buckets behind the code under test."""
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_REGION"],
    ).client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])


@pytest.fixture
def s3_reports_url(s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """`s3://BUCKET/reports` of a new bucket; the AWS variables are set for this test."""
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    bucket = f"rawexport-{uuid.uuid4().hex[:12]}"
    s3_client(s3_env).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/reports"


@pytest.fixture(params=["local", "s3"])
def report_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty report store, once per backend."""
    if request.param == "local":
        return str(tmp_path / "reports")
    url: str = request.getfixturevalue("s3_reports_url")
    return url
