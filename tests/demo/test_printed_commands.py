"""What `rawexport demo --serve` prints works when pasted into a shell, against the demo server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from rawexport.cli.demo import demo
from tests.conftest import RAWEXPORT
from tests.loopback import free_port

pytestmark = pytest.mark.skipif(
    subprocess.run(["curl", "--fail-with-body", "--version"], capture_output=True).returncode != 0,
    reason="needs curl 7.76 or later",
)


@dataclass
class RunningDemo:
    process: subprocess.Popen[bytes]
    workdir: Path
    printed: str
    """What the demo printed on stdout: the shell text to paste."""
    errors: Path


def _start_demo(workdir: Path, users: int) -> RunningDemo:
    port = free_port()
    out, errors = workdir / "demo.out", workdir / "demo.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAWEXPORT_")}
    env["RAWEXPORT_MIN_JOB_INTERVAL_S"] = "0"  # the two ways run one after the other
    command = [*RAWEXPORT, "demo", "--users", str(users), "--days", "8"]
    command += ["--data-dir", str(workdir / "data"), "--serve", "--port", str(port)]
    with out.open("wb") as stdout, errors.open("wb") as stderr:  # the child keeps copies
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=stdout, stderr=stderr)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"demo exited: {errors.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return RunningDemo(process, workdir, out.read_text(), errors)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the demo server did not become healthy")


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    running = _start_demo(tmp_path_factory.mktemp("demo"), users=300)
    yield running
    running.process.send_signal(signal.SIGINT)
    running.process.wait(timeout=60)


def _paste(text: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `text` as a user who pastes it into an interactive bash would."""
    return subprocess.run(
        ["bash", "-c", text], cwd=cwd, capture_output=True, text=True, timeout=240
    )


def _block(printed: str, heading: str) -> str:
    """The paragraph (commands between blank lines) that starts with the comment `heading`."""
    return next(p for p in printed.split("\n\n") if p.strip().startswith(heading))


def test_the_printed_pull_command_extracts_the_report(running_demo: RunningDemo) -> None:
    pull = _block(running_demo.printed, "# 1.")
    assert "rawexport pull" in pull
    done = _paste(pull, running_demo.workdir)
    assert done.returncode == 0, done.stderr
    report = running_demo.workdir / "report"
    assert {"rp.csv", "lu.csv", "users.csv"} == {p.name for p in report.iterdir()}
    assert len((report / "lu.csv").read_text().splitlines()) > 1


def test_the_printed_curl_sequence_waits_for_the_job_and_downloads_the_zip(
    running_demo: RunningDemo,
) -> None:
    curl = _block(running_demo.printed, "# 2.")
    done = _paste(curl, running_demo.workdir)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(running_demo.workdir / "report.zip") as report:
        assert report.testzip() is None
        assert {"rp.csv", "lu.csv", "levelComplete.csv", "users.csv"} <= set(report.namelist())
        assert len(report.read("lu.csv").splitlines()) > 1


def test_the_printed_curl_sequence_fails_loudly_on_an_error(
    running_demo: RunningDemo, tmp_path: Path
) -> None:
    curl = _block(running_demo.printed, "# 2.")
    token = next(w for w in curl.split() if w.startswith("TOKEN="))
    done = _paste(curl.replace(token, "TOKEN=not-a-token"), tmp_path)
    assert done.returncode != 0
    assert "error 11: Authorization error" in done.stderr
    assert not (tmp_path / "report.zip").exists()


def test_ctrl_c_stops_the_demo_server_cleanly(tmp_path: Path) -> None:
    running = _start_demo(tmp_path, users=20)
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=60) == 0
    assert "Aborted" not in running.errors.read_text()


def test_a_busy_port_is_reported_before_any_data_is_made(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            demo, ["--serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert not (tmp_path / "data").exists()
