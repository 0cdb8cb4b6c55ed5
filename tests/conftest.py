"""Shared fixtures: one embedded event store per test process, and real servers on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from rawexport.cli.main import cli
from rawexport.meta.accounts import Accounts
from rawexport.meta.batches import BatchLedger
from rawexport.meta.db import connect
from rawexport.meta.jobs import JobQueue
from rawexport.store import EventStore, ensure_schema, open_store
from tests.clickhouse_http import clickhouse_server, clickhouse_url
from tests.loopback import PORT_TAKEN, free_port, listens
from tests.pg_server import metadata_url, pg_url
from tests.s3_server import report_store_url, s3_env, s3_reports_url

__all__ = [
    "Account",
    "LiveServer",
    "PortTaken",
    "accounts",
    "app_id",
    "chdb_store",
    "clickhouse_server",
    "clickhouse_store",
    "clickhouse_url",
    "engine",
    "event_store",
    "granted_account",
    "ledger",
    "metadata_url",
    "pg_url",
    "queue",
    "report_store_url",
    "run_cli",
    "run_cli_here",
    "s3_env",
    "s3_reports_url",
    "server",
    "shared_server",
    "start_server",
    "wait_healthy",
]

RAWEXPORT = [sys.executable, "-m", "rawexport.cli.main"]


@pytest.fixture(scope="session")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    # chDB allows one data directory per process: every in-process test shares this one and
    # isolates itself with a fresh app id.
    store = open_store(f"chdb://{tmp_path_factory.mktemp('chdb')}")
    ensure_schema(store)
    yield store
    store.close()


@pytest.fixture(scope="session")
def clickhouse_store(clickhouse_url: str) -> Iterator[EventStore]:
    store = open_store(clickhouse_url)
    ensure_schema(store)
    yield store
    store.close()


@pytest.fixture(scope="session", params=["chdb", "clickhouse"])
def event_store(request: pytest.FixtureRequest) -> EventStore:
    """The event store, once embedded and once on a ClickHouse server: what a test asserts of
    it is the contract of every backend."""
    store: EventStore = request.getfixturevalue(f"{request.param}_store")
    return store


@pytest.fixture
def engine(metadata_url: str) -> Iterator[Engine]:
    """A metadata database, once on SQLite and once on PostgreSQL."""
    engine = connect(metadata_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BatchLedger]:
    """The load batch sequence every load of events goes through, on a SQLite database of the
    test's own (tests sharing the event store load for apps of their own)."""
    engine = connect(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'meta.sqlite3'}")
    yield BatchLedger(engine, lease_s=60)
    engine.dispose()


@pytest.fixture
def accounts(engine: Engine) -> Accounts:
    return Accounts(engine)


@pytest.fixture
def queue(engine: Engine) -> JobQueue:
    return JobQueue(engine)


@pytest.fixture
def app_id() -> str:
    return str(uuid.uuid4())


def run_cli_here(data_dir: Path, env: Mapping[str, str], *args: str) -> dict[str, Any]:
    """`rawexport ARGS --data-dir DATA_DIR --json` in this process, with the RAWEXPORT_*
    variables of `env`, its JSON output. For the metadata commands only (the event store belongs
    to one process at a time); a process of their own would cost a second of imports each."""
    settings = {name: value for name, value in env.items() if name.startswith("RAWEXPORT_")}
    done = CliRunner().invoke(cli, [*args, "--data-dir", str(data_dir), "--json"], env=settings)
    if done.exit_code != 0:
        raise AssertionError(f"rawexport {' '.join(args)} failed: {done.output}")
    parsed: dict[str, Any] = json.loads(done.output) if done.output.strip() else {}
    return parsed


def run_cli(data_dir: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    """`rawexport ARGS --data-dir DATA_DIR --json` in a child process, its JSON output."""
    out = subprocess.run(
        [*RAWEXPORT, *args, "--data-dir", str(data_dir), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise AssertionError(f"rawexport {' '.join(args)} failed: {out.stderr}")
    parsed: dict[str, Any] = json.loads(out.stdout) if out.stdout.strip() else {}
    return parsed


@dataclass(frozen=True)
class Account:
    space_id: str
    user_id: str
    token: str
    app_id: str


def granted_account(accounts: Accounts) -> Account:
    """A fresh space, a user in it and an app of it granted to the user, made in-process."""
    space = accounts.create_space(f"space-{uuid.uuid4().hex[:6]}")
    user_id, token = accounts.create_user(space, f"{uuid.uuid4().hex}@x.io")
    app_id, _ = accounts.create_app(space, "game")
    accounts.grant(user_id, app_id)
    return Account(space, user_id, token, app_id)


@dataclass
class LiveServer:
    """`rawexport serve` running as a child process on a free loopback port."""

    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(default=Path("/dev/null"))

    def cli(self, *args: str) -> dict[str, Any]:
        """Run `rawexport ARGS --data-dir D --json` and return its JSON output."""
        return run_cli(self.data_dir, self.env, *args)

    def account(self) -> Account:
        """A space, a user and an app granted to them, made by the operator's commands."""
        operator = partial(run_cli_here, self.data_dir, self.env)
        space = operator("space", "create", f"space-{uuid.uuid4().hex[:6]}")["space_id"]
        user = operator("user", "create", "--space", space, "--email", f"{uuid.uuid4().hex}@x.io")
        app = operator("app", "create", "--space", space, "game")["app_id"]
        operator("app", "grant", user["user_id"], app)
        return Account(space, user["user_id"], user["user_token"], app)

    def load(self, app_id: str, rows: list[dict[str, Any]], *, users: bool = False) -> None:
        path = self.data_dir / f"load-{uuid.uuid4().hex}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        self.cli("load", "--app", app_id, *(["--users"] if users else []), str(path))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)

    def start(self) -> None:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
                self.process = subprocess.Popen(
                    [
                        *RAWEXPORT,
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--data-dir",
                        str(self.data_dir),
                    ],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                wait_healthy(self.url, self.process, self.log)
                return
            except PortTaken:
                if attempt == _PORT_ATTEMPTS:
                    raise


_PORT_ATTEMPTS = 3


class PortTaken(AssertionError):
    """A server exited because another process took its port first (see tests/loopback.py)."""


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    """Until the process listens on the port of `url` and `url/healthz` answers 200; fails with
    the end of `log` if the process exits first (`PortTaken` if its port was taken)."""
    port = urlsplit(url).port
    assert port is not None, url
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-3000:]
            failure = PortTaken if PORT_TAKEN in tail.lower() else AssertionError
            raise failure(f"{process.args!r} exited:\n{tail}")
        try:
            if (
                listens(process.pid, port)
                and httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not become healthy:\n{log.read_text()[-3000:]}")


class ServerPool:
    """Starts servers with fresh data directories and stops them all at teardown."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        self.tmp = tmp
        self.servers: list[LiveServer] = []

    def start(self, **overrides: str) -> LiveServer:
        data_dir = self.tmp.mktemp("server")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAWEXPORT_")}
        env.update(overrides)
        server = LiveServer("", data_dir, env, log=data_dir / "server.log")
        server.start()
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        for s in self.servers:
            s.stop()


@pytest.fixture
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """A factory: `start_server(RAWEXPORT_X="1")` starts a server stopped after the test."""
    pool = ServerPool(tmp_path_factory)
    yield pool.start
    pool.stop_all()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for a whole test module, with the default settings but no request spacing."""
    pool = ServerPool(tmp_path_factory)
    yield pool.start(
        RAWEXPORT_MIN_JOB_INTERVAL_S="0",
        RAWEXPORT_JOBS_PER_DAY_USER="100000",
        RAWEXPORT_JOBS_PER_DAY_SPACE="100000",
        RAWEXPORT_MAX_CONCURRENT_JOBS="1000",
    )
    pool.stop_all()


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server()
