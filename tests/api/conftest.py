"""The API in this process: the app on httpx's ASGI transport, its runtime on the session's store.

The app runs on an event loop in a thread of its own (an anyio blocking portal) with its lifespan
entered, so the export workers start and stop with it as under `rawexport serve`; tests talk to it
through a plain `httpx.Client`. Only what a process itself shows (signals, restarts, the access
log, the CLI against a server) starts one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rawexport.client import Client
from rawexport.export.engine import run_export
from rawexport.http.app import create_app
from rawexport.runtime import Runtime
from rawexport.settings import Settings
from rawexport.store import EventStore, load_file
from rawexport.workers.pool import WorkerPool
from tests.api.portal import PortalTransport
from tests.conftest import Account, LiveServer, granted_account, run_cli_here

__all__ = [
    "LENIENT",
    "Api",
    "OverHttp",
    "Service",
    "service_on_each_store",
    "shared_service",
    "start_service",
]

LENIENT = {
    "min_job_interval_s": 0,
    "jobs_per_day_user": 100_000,
    "jobs_per_day_space": 100_000,
    "max_concurrent_jobs": 1000,
}
"""Limits that let one module's tests submit jobs back to back."""


class Api(Protocol):
    """Whatever answers the API: a `Service` in this process or a server over loopback HTTP."""

    @property
    def client(self) -> httpx.Client: ...


@dataclass(frozen=True)
class OverHttp:
    """A `rawexport serve` process reached over loopback (its URL changes when it restarts)."""

    client: httpx.Client

    @classmethod
    @contextmanager
    def of(cls, server: LiveServer) -> Iterator[OverHttp]:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield cls(client)


@dataclass
class Service:
    """What a test needs of a running service: its client, its data directory, its operator."""

    client: httpx.Client
    runtime: Runtime
    transport: httpx.BaseTransport

    def analyst(self, token: str) -> Client:
        """The analyst's `Client` (`rawexport.client`), reaching this service as `client` does."""
        return Client(str(self.client.base_url), token, transport=self.transport)

    @property
    def data_dir(self) -> Path:
        return self.runtime.settings.data_dir

    def cli(self, *args: str) -> dict[str, Any]:
        """`rawexport ARGS --data-dir D --json`, in this process (metadata commands only: the
        event store belongs to this process's app)."""
        database = self.runtime.settings.database_url
        env = {"RAWEXPORT_DATABASE_URL": database} if database else {}
        return run_cli_here(self.data_dir, env, *args)

    def account(self) -> Account:
        return granted_account(self.runtime.accounts)

    def load(self, app_id: str, rows: list[dict[str, Any]], *, users: bool = False) -> None:
        path = self.data_dir / f"load-{uuid.uuid4().hex}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        load_file(self.runtime.store, app_id, path, ledger=self.runtime.batches, users=users)


def _start(stack: ExitStack, data_dir: Path, store: EventStore, **settings: object) -> Service:
    runtime = Runtime.on_store(Settings.load({"data_dir": data_dir, **settings}, env={}), store)
    stack.callback(runtime.close)
    pool = WorkerPool(runtime.jobs, store, runtime.reports, runtime.settings, run_export)

    def start_workers() -> Callable[[], None]:
        pool.start()
        return pool.stop

    app = create_app(
        runtime, admin_key="admin", start_workers=start_workers, notify_workers=pool.notify
    )
    portal = stack.enter_context(start_blocking_portal())
    stack.enter_context(portal.wrap_async_context_manager(app.router.lifespan_context(app)))
    transport = PortalTransport(portal, app)
    client = stack.enter_context(httpx.Client(transport=transport, base_url="http://testserver"))
    return Service(client, runtime, transport)


@pytest.fixture
def start_service(
    tmp_path_factory: pytest.TempPathFactory, chdb_store: EventStore
) -> Iterator[Callable[..., Service]]:
    """A factory: `start_service(workers=0)` starts a service stopped after the test."""
    with ExitStack() as stack:

        def start(**settings: object) -> Service:
            return _start(stack, tmp_path_factory.mktemp("service"), chdb_store, **settings)

        yield start


@pytest.fixture(scope="module")
def shared_service(
    tmp_path_factory: pytest.TempPathFactory, chdb_store: EventStore
) -> Iterator[Service]:
    """One service for a whole test module, with default settings but lenient limits."""
    with ExitStack() as stack:
        yield _start(stack, tmp_path_factory.mktemp("service"), chdb_store, **LENIENT)


@pytest.fixture
def service_on_each_store(
    tmp_path_factory: pytest.TempPathFactory, event_store: EventStore
) -> Iterator[Service]:
    """A service with lenient limits, once on the embedded store and once on a ClickHouse
    server: for what every backend must do alike."""
    with ExitStack() as stack:
        yield _start(stack, tmp_path_factory.mktemp("service"), event_store, **LENIENT)
