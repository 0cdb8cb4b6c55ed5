"""Fixtures of the webhook tests: receivers on loopback, accounts, and worker pools that deliver,
on a metadata database that is once SQLite and once PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, select

from rawexport.domain.jobspec import JobSpec
from rawexport.domain.quotas import Limits
from rawexport.export.zipstream import ZipSink
from rawexport.meta.accounts import Accounts, User
from rawexport.meta.jobs import JobQueue
from rawexport.meta.schema import webhook_outbox
from rawexport.store.base import EventStore
from rawexport.workers.pool import ProgressCallback, WorkerPool
from tests.conftest import granted_account
from tests.polling import wait_until
from tests.webhooks.receiver import Receiver, running_receiver
from tests.workers.conftest import opaque_store, pools

__all__ = [
    "Member",
    "Written",
    "broken_export",
    "opaque_store",
    "pools",
    "outbox_row",
    "small_export",
    "wait_until",
]

UNLIMITED = Limits(10_000, 10_000, 10_000, 0)
BASE_URL = "https://exports.example.com/"


@dataclass(frozen=True)
class Written:
    rows: int
    empty: bool
    size: int


def small_export(store: EventStore, spec: JobSpec, out: ZipSink, _: ProgressCallback) -> Written:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as report:
        report.writestr("users.csv", f"devtodev ID,app\n1,{spec.app_id}\n")
    out.write(archive.getvalue())
    return Written(rows=1, empty=False, size=len(archive.getvalue()))


def broken_export(*_: object) -> Written:
    raise RuntimeError("the event store went away")


def outbox_row(engine: Engine, job_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(webhook_outbox).where(webhook_outbox.c.job_id == job_id)).first()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@dataclass
class Member:
    """A user of a fresh space, granted one app, who submits jobs that notify a URL."""

    queue: JobQueue
    user: User
    app_id: str

    @property
    def space_id(self) -> str:
        return self.user.space_id

    def submit(self, notify_url: str | None) -> str:
        spec = JobSpec(
            self.app_id, 1_700_000_000, 1_700_086_400, (), notify_url=notify_url, base_url=BASE_URL
        )
        return self.queue.submit(self.user, spec, UNLIMITED)


@pytest.fixture
def new_member(engine: Engine, queue: JobQueue) -> Callable[[], Member]:
    accounts = Accounts(engine)

    def create() -> Member:
        account = granted_account(accounts)
        user = accounts.user_by_token(account.token)
        assert user is not None
        return Member(queue, user, account.app_id)

    return create


@pytest.fixture
def member(new_member: Callable[[], Member]) -> Member:
    return new_member()


@pytest.fixture
def start_pool(pools: Callable[..., WorkerPool]) -> Callable[..., WorkerPool]:
    """`start_pool(export, webhook_hosts=...)`: a running pool whose webhooks retry quickly."""
    return partial(pools, workers=1, webhook_retry_s=0.05)
