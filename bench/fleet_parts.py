"""The shared parts of a fleet on loopback, and its worker processes, as the fleet bench runs them.

PostgreSQL, the ClickHouse-HTTP stand-in and moto are started by the same helpers the fleet's
tests use (tests/pg_server.py, tests/clickhouse_http.py, tests/s3_server.py), so how each part
is started and stopped is said once. Every node of the fleet is a child process that gets
`SharedParts.env` and nothing else in common with the others.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from bench_server import RAWEXPORT

from rawexport.cli.worker import READY

# The test helpers are modules of the `tests` package at the repository's root, which is not
# installed: the repository's root goes on the path so that `tests.*` imports as under pytest.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.clickhouse_http import StandIn
from tests.pg_server import PgCluster, find_pg_bin
from tests.s3_server import MotoServer, s3_client

__all__ = ["REPORT_STORES", "SharedParts", "WorkerNode", "use_environment"]

REPORT_STORES = ("s3", "local")
"""Where the reports go: moto's S3 server, or one directory every process of this machine sees."""
_READY_TIMEOUT_S = 60
_STOP_TIMEOUT_S = 30


class SharedParts:
    """PostgreSQL, ClickHouse (the stand-in) and a report store, for a `with` block.

    `env` names them in the variables every node reads; `reports_env(kind)` adds the report
    store of that kind.
    """

    def __init__(self, work: Path) -> None:
        self._work = work
        self._stack = ExitStack()
        self.env: dict[str, str] = {}
        self._s3_env: dict[str, str] = {}
        self.pids: dict[str, int] = {}
        """The process of each shared part, whose CPU time the bench reads."""

    def __enter__(self) -> SharedParts:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise SystemExit("the fleet bench needs PostgreSQL's initdb and pg_ctl")
        try:
            postgres = PgCluster(bin_dir)
            self._stack.callback(postgres.stop)
            clickhouse = StandIn(self._dirs("clickhouse"))
            self._stack.callback(clickhouse.stop)
            moto = MotoServer(self._dirs("s3") / "moto.log")
            self._stack.callback(moto.stop)
            self.env = {
                "RAWEXPORT_DATABASE_URL": postgres.start(),
                "RAWEXPORT_STORE_URL": f"{clickhouse.url}/bench",
            }
        except BaseException:
            self._stack.close()
            raise
        self._s3_env = moto.env
        self.pids = {"clickhouse": clickhouse.pid, "s3": moto.pid, "postgres": postgres.pid}
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def reports_env(self, kind: str) -> dict[str, str]:
        """The variables of a fresh, empty report store of `kind` (one of REPORT_STORES)."""
        if kind == "local":
            return {"RAWEXPORT_REPORTS_URL": str(self._dirs(f"reports-{uuid.uuid4().hex[:8]}"))}
        bucket = f"fleet-bench-{uuid.uuid4().hex[:12]}"
        s3_client(self._s3_env).create_bucket(Bucket=bucket)
        return {**self._s3_env, "RAWEXPORT_REPORTS_URL": f"s3://{bucket}/reports"}

    def _dirs(self, name: str) -> Path:
        made = self._work / name
        made.mkdir(parents=True)
        return made


class WorkerNode:
    """`rawexport worker --workers THREADS` in a child process with a data directory of its own."""

    def __init__(self, data_dir: Path, threads: int) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / "worker.log"
        command = [*RAWEXPORT, "worker", "--workers", str(threads), "--data-dir", str(data_dir)]
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self.pid = self._process.pid

    def wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if READY in self.log.read_text():
                return
            if self._process.poll() is not None:
                raise SystemExit(f"rawexport worker exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        raise SystemExit(f"rawexport worker not ready within {_READY_TIMEOUT_S} s; see {self.log}")

    def stop(self) -> None:
        """SIGTERM, as an operator stops a worker; SIGKILL if it does not stop in time."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def use_environment(*parts: dict[str, str]) -> None:
    """This process's environment, for itself and the nodes it starts: its own RAWEXPORT_* and
    AWS_* variables dropped (the machine's set-up must not leak in), then `parts` added."""
    for name in [n for n in os.environ if n.startswith(("RAWEXPORT_", "AWS_"))]:
        del os.environ[name]
    for part in parts:
        os.environ.update(part)
