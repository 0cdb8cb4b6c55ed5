"""A throwaway PostgreSQL cluster for the test session, and the fixtures that hand it out.

`pg_url` is the server's URL: RAWEXPORT_TEST_PG_URL when set (its user must be allowed to create
databases), else a cluster started from the initdb/pg_ctl found on PATH or under
/usr/lib/postgresql/*/bin, listening on a free loopback port with its socket in its own temporary
directory. initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
Without binaries the PostgreSQL tests are skipped, except under CI (env CI set) where they fail.

`metadata_url` runs a test once on a fresh SQLite file and once on a fresh PostgreSQL database.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.loopback import PORT_TAKEN, free_port

__all__ = ["PgCluster", "find_pg_bin", "fresh_database", "metadata_url", "pg_url"]

_SERVICE_USER = "postgres"
_PORT_ATTEMPTS = 3


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, newest major version first."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True)
    candidates += [Path(v) for v in versions]
    return next((c for c in candidates if (c / "pg_ctl").exists()), None)


def _major(path: str) -> int:
    version = Path(path).parent.name
    return int(version) if version.isdigit() else 0


class PgCluster:
    """One PostgreSQL server in a temporary directory; `stop` removes it all."""

    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        self._as_root = os.geteuid() == 0
        self._root = Path(tempfile.mkdtemp(prefix="rawexport-pg-"))
        self._data = self._root / "data"
        self._log = self._root / "server.log"
        self.port = 0
        self.url = ""
        self._running = False

    def start(self) -> str:
        if self._as_root:
            shutil.chown(self._root, user=_SERVICE_USER)
        self._run(
            "initdb",
            "-D",
            str(self._data),
            "-U",
            _SERVICE_USER,
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        for attempt in range(1, _PORT_ATTEMPTS + 1):  # see tests/loopback.py
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self._data),
                    "-o",
                    self._options(),
                    "-l",
                    str(self._log),
                    "-w",
                    "start",
                )
                break
            except subprocess.CalledProcessError:
                if attempt == _PORT_ATTEMPTS or PORT_TAKEN not in self._log.read_text().lower():
                    raise
        self._running = True
        self.url = f"postgresql+psycopg://{_SERVICE_USER}@127.0.0.1:{self.port}/postgres"
        return self.url

    def _options(self) -> str:
        return (
            f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )

    @property
    def pid(self) -> int:
        """The postmaster's process id (the first line of its postmaster.pid)."""
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self._running:
            self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")
            self._running = False
        shutil.rmtree(self._root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self._bin / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", _SERVICE_USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self._root)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a PostgreSQL server for this test session (see the module docstring)."""
    configured = os.environ.get("RAWEXPORT_TEST_PG_URL")
    if configured:
        yield configured
        return
    bin_dir = find_pg_bin()
    if bin_dir is None:
        message = "no PostgreSQL binaries (initdb, pg_ctl) and RAWEXPORT_TEST_PG_URL is not set"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = PgCluster(bin_dir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty metadata database, once per engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meta.sqlite3'}"
        return
    with fresh_database(request.getfixturevalue("pg_url")) as url:
        yield url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the server at `server_url`, dropped afterwards."""
    server = make_url(server_url)
    name = f"test_{uuid.uuid4().hex}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
