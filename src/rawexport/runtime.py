"""The parts one process works with, opened from the settings: metadata, job queue, event store,
report store."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from sqlalchemy import Engine

from rawexport.domain.quotas import Limits
from rawexport.meta.accounts import Accounts
from rawexport.meta.batches import BatchLedger
from rawexport.meta.db import connect
from rawexport.meta.jobs import JobQueue
from rawexport.reports import ReportStore, open_reports
from rawexport.settings import Settings
from rawexport.store import EventStore, ensure_schema, open_store
from rawexport.webhooks.allowlist import Allowlist

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """Opened lazily: a CLI command that only touches accounts never starts the event store."""

    settings: Settings
    _store: EventStore | None = field(default=None, init=False, repr=False)
    _owns_store: bool = field(default=True, init=False, repr=False)

    @classmethod
    def on_store(cls, settings: Settings, store: EventStore) -> Runtime:
        """A runtime on an event store opened elsewhere, which `close` leaves open: chDB opens
        one data directory per process, so the in-process API tests share one."""
        runtime = cls(settings)
        runtime._store, runtime._owns_store = store, False
        return runtime

    @property
    def shares_metadata(self) -> bool:
        """Whether the metadata database is named by URL, and so may serve other processes."""
        return self.settings.database_url is not None

    @property
    def owns_data_dir(self) -> bool:
        """Whether the event store is embedded in DATA_DIR, where one process at a time may open
        it (chDB); such a process is the one the local `rawexport load` talks to."""
        return urlsplit(self.settings.events_url).scheme == "chdb"

    @cached_property
    def engine(self) -> Engine:
        # A database of this process alone is upgraded at start; a shared one only by the
        # operator (`rawexport db upgrade`), who knows when the previous release has stopped.
        return connect(self.settings.metadata_url, upgrade_existing=not self.shares_metadata)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.engine)

    @cached_property
    def jobs(self) -> JobQueue:
        return JobQueue(self.engine)

    @cached_property
    def batches(self) -> BatchLedger:
        """The load batch sequence, which every load of events goes through."""
        return BatchLedger(self.engine, self.settings.load_lease_s)

    @cached_property
    def limits(self) -> Limits:
        return Limits.from_settings(self.settings)

    @cached_property
    def webhook_hosts(self) -> Allowlist:
        """Where a job's `notify_url` may point (ValueError for a malformed setting)."""
        return Allowlist.parse(self.settings.webhook_hosts)

    @cached_property
    def reports(self) -> ReportStore:
        return open_reports(self.settings.report_store_url)

    @property
    def store(self) -> EventStore:
        if self._store is None:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            self._store = open_store(self.settings.events_url)
            ensure_schema(self._store)
        return self._store

    def close(self) -> None:
        if self._store is not None and self._owns_store:
            self._store.close()
        self._store = None
        if "engine" in self.__dict__:
            self.engine.dispose()
