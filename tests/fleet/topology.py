"""The many-machine topology on loopback: API nodes and export workers as separate processes.

Every process shares only what a fleet shares: the PostgreSQL metadata database, the ClickHouse
event store (over HTTP) and the S3 report bucket. Each gets its own empty data directory, so
nothing can pass between them through local files.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine

from tests.conftest import RAWEXPORT, run_cli_here, wait_healthy
from tests.loopback import free_port

__all__ = ["ApiNode", "Fleet", "Service"]

_START_TIMEOUT_S = 60.0


@dataclass
class Service:
    """One `rawexport` process with its own data directory and log."""

    name: str
    args: list[str]
    env: dict[str, str]
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*RAWEXPORT, *self.args, "--data-dir", str(self.data_dir)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(sig)
            self.process.wait(timeout=timeout)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@dataclass
class ApiNode(Service):
    """`rawexport serve --workers 0`: the API alone."""

    url: str = ""

    def wait_healthy(self) -> None:
        assert self.process is not None
        wait_healthy(self.url, self.process, self.log, _START_TIMEOUT_S)

    def call(self, endpoint: str, body: Mapping[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/v1/rawexport/{endpoint}", content=json.dumps(body), timeout=60
        )


@dataclass
class Fleet:
    """The processes of one test; `stop_all` ends every one of them."""

    root: Path
    env: dict[str, str]
    services: list[Service] = field(default_factory=list)
    _database: Engine | None = None

    def database(self) -> Engine:
        """The shared metadata database, to look at jobs behind the services' backs."""
        if self._database is None:
            self._database = create_engine(self.env["RAWEXPORT_DATABASE_URL"])
        return self._database

    def cli(self, *args: str) -> dict[str, Any]:
        """An operator command against the shared metadata database, its JSON answer. Run in
        this process: the operator's machine is not what the fleet test is about, and a process
        of its own would cost a second of imports per command."""
        return run_cli_here(self.root / "operator", self.env, *args)

    def api_node(self, name: str) -> ApiNode:
        port = free_port()
        args = ["serve", "--workers", "0", "--host", "127.0.0.1", "--port", str(port)]
        node = ApiNode(name, args, self.env, self.root / name, url=f"http://127.0.0.1:{port}")
        node.start()
        self.services.append(node)
        return node

    def worker(self, name: str) -> Service:
        service = Service(name, ["worker"], self.env, self.root / name)
        service.start()
        self.services.append(service)
        return service

    def stop_all(self) -> None:
        if self._database is not None:
            self._database.dispose()
        for service in self.services:
            try:
                service.stop()
            except subprocess.TimeoutExpired:
                service.stop(signal.SIGKILL)
