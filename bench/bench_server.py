"""`rawexport serve` and the operator CLI as a benchmark drives them, and its peak memory."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psutil

from rawexport.domain.paths import API_PREFIX

__all__ = [
    "PROGRESS_POLL_S",
    "BenchServer",
    "PeakRss",
    "cli",
    "cpu_seconds",
    "evict_library_pages",
]

RAWEXPORT = [sys.executable, "-m", "rawexport.cli.main"]
# The environment the bench was started with, taken before the bench imports rawexport (whose
# embedded store sets chDB's allocator variable in its own process): a server of another version
# (`--before`) must run with its own defaults, not this version's.
_STARTED_WITH = dict(os.environ)
_HEALTH_POLL_S = 0.05
# As an analyst's script polls: the time it sees from setjob to `complete` is the headline.
# Each getprogress costs the server a few ms of CPU, which the job's time includes, as it would.
PROGRESS_POLL_S = 0.1
_IDLE_WINDOW_S = 0.5
_IDLE_SHARE = 0.05
"""A server using less than this share of a core over the window is at rest."""


def cli(data_dir: Path, *args: str) -> dict[str, Any]:
    """`rawexport ARGS --data-dir D --json`, its JSON output."""
    done = subprocess.run(
        [*RAWEXPORT, *args, "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"rawexport {' '.join(args)} failed:\n{done.stderr}")
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


class PeakRss:
    """The peak resident memory of a process and its children over a `with` block.

    The kernel keeps each process's high-water mark (VmHWM); writing 5 to clear_refs resets it
    to the current RSS (Linux 4.0+). So the peak is exact, however brief the spike,
    and measuring costs no CPU while the job runs. A child that exits inside the block is not
    counted (the server starts none while it exports).

    `file_pages` is the part of the resident memory at the end that is pages of files mapped
    (chDB's library above all): clean, shared with any process that maps them, and as many as
    the page cache held around what the process touched (the kernel maps cached neighbours of
    a faulting page), so they depend on what ran before; see `evict_library_pages`.
    """

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self.file_pages = 0

    @staticmethod
    def rss_of(pid: int) -> int:
        process = psutil.Process(pid)
        return int(sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]))

    def _family(self) -> list[psutil.Process]:
        return [self._process, *self._process.children(recursive=True)]

    def __enter__(self) -> PeakRss:
        for process in self._family():
            Path(f"/proc/{process.pid}/clear_refs").write_text("5")
        return self

    def __exit__(self, *exc: object) -> None:
        family = self._family()
        self.peak = sum(_status_kb(p.pid, "VmHWM") for p in family) * 1024
        self.file_pages = sum(_status_kb(p.pid, "RssFile") for p in family) * 1024


def evict_library_pages() -> None:
    """Drop chDB's library from the page cache, where no running process maps it.

    A process mapping a library gets, with each page it faults in, the neighbours the page
    cache holds: the same server's resident memory was 170 MB to 350 MB of library pages
    depending on how many earlier processes had run. From a cold cache every server starts
    alike, with the pages it reads itself.
    """
    spec = importlib.util.find_spec("chdb")
    if spec is None or spec.origin is None:
        return
    for library in Path(spec.origin).parent.glob("_chdb*.so"):
        fd = os.open(library, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process and its children have used so far.

    Children that already exited count too (the kernel adds theirs to the parent's once it has
    waited for them): PostgreSQL's backends come and go with their connections.
    """
    process = psutil.Process(pid)
    total = sum(
        t.user + t.system
        for t in (p.cpu_times() for p in [process, *process.children(recursive=True)])
    )
    reaped = process.cpu_times()
    return float(total + reaped.children_user + reaped.children_system)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} in /proc/{pid}/status: peak memory needs Linux")


class BenchServer:
    """`rawexport serve [OPTIONS]` on a free loopback port for the length of a `with` block."""

    def __init__(
        self,
        data_dir: Path,
        *options: str,
        source: Path | None = None,
        cpus: str | None = None,
    ) -> None:
        """`options` go to `rawexport serve`; `source`: a directory whose `src/` holds the
        rawexport to run instead of this one's (another version, to compare in the same run);
        `cpus`: `taskset -c` list to run on."""
        env = dict(_STARTED_WITH)
        if source is not None:
            env["PYTHONPATH"] = str(source / "src")
        pinned = ["taskset", "-c", cpus] if cpus else []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._log = (data_dir / "server.log").open("ab")
        self._process = subprocess.Popen(
            [
                *pinned,
                *RAWEXPORT,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                # The bench runs its jobs back to back; the setjob frequency limit would
                # only add waiting.
                "--min-job-interval-s",
                "0",
                *options,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.pid = self._process.pid
        self._client = httpx.Client(base_url=self.url, timeout=60)

    def __enter__(self) -> BenchServer:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                # The data directory goes with the bench: say here what the server said.
                self._log.flush()
                said = Path(self._log.name).read_text(errors="replace").strip().splitlines()
                raise SystemExit("rawexport serve exited:\n" + "\n".join(said[-10:]))
            try:
                if self._client.get("/healthz").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(_HEALTH_POLL_S)
        raise SystemExit("rawexport serve did not become healthy within 60 s")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client.close()
        self._process.terminate()
        self._process.wait(timeout=60)
        self._log.close()

    def rss(self) -> int:
        return PeakRss.rss_of(self.pid)

    def wait_idle(self, timeout_s: float = 120) -> None:
        """Until the server's CPU rests: a loading process leaves its merges to the next one to
        open the store, and a server merging freshly loaded parts is not the one to measure."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            before = cpu_seconds(self.pid)
            time.sleep(_IDLE_WINDOW_S)
            if cpu_seconds(self.pid) - before < _IDLE_SHARE * _IDLE_WINDOW_S:
                return
        raise SystemExit(f"rawexport serve stayed busy for {timeout_s:.0f} s")

    def run_job(
        self, token: str, app_id: str, start: int, end: int, events: list[str]
    ) -> tuple[str, str]:
        """setjob, then getprogress until complete; the job's id and its report's URL."""
        job = self.submit(token, app_id, start, end, events)
        return job, self.wait_complete(token, job)

    def submit(self, token: str, app_id: str, start: int, end: int, events: list[str]) -> str:
        """setjob; the job's id."""
        body = {
            "user_token": token,
            "app_id": app_id,
            "start_date": start,
            "end_date": end,
            "events": events,
        }
        return str(self._api("setjob", body))

    def status(self, token: str, job: str) -> str:
        return str(self._api("getprogress", {"user_token": token, "job_id": job})["status"])

    def report_url(self, token: str, job: str) -> str | None:
        """One getprogress: the report's URL once the job is complete, else None."""
        progress = self._api("getprogress", {"user_token": token, "job_id": job})
        return str(progress["result"]["url"]) if progress["status"] == "complete" else None

    def wait_complete(self, token: str, job: str) -> str:
        """getprogress until the job is complete; its report's URL."""
        while (url := self.report_url(token, job)) is None:
            time.sleep(PROGRESS_POLL_S)
        return url

    def download(self, url: str, target: Path) -> int:
        with self._client.stream("GET", url) as response, target.open("wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(1 << 20):
                out.write(chunk)
        return target.stat().st_size

    def _api(self, endpoint: str, body: dict[str, Any]) -> Any:
        answer = self._client.post(f"{API_PREFIX}/{endpoint}", content=json.dumps(body))
        parsed = answer.json()
        if "errors" in parsed:
            raise SystemExit(f"{endpoint} failed: {parsed}")
        return parsed["data"]
