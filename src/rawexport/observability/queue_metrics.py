"""The job table at scrape time: jobs by state, queue depth, the oldest pending job's age.

Read when Prometheus scrapes, not counted as jobs move: every API node and worker process shows
the same values, whichever process moved the jobs. Two indexed queries (`jobs_status_created`);
the age is on the database's clock, which every machine shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from rawexport.domain.states import JobStatus
from rawexport.meta.clock import db_now
from rawexport.meta.schema import jobs

__all__ = ["QueueCollector"]


class QueueCollector(Collector):
    def __init__(self, engine: Callable[[], Engine]) -> None:
        # A callable: the document of an app is built without opening its database.
        self._engine = engine

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only; nothing to check for duplicates

    def collect(self) -> Iterator[Metric]:
        by_state = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        pending = select(func.count(), db_now() - func.min(jobs.c.created_at)).where(
            jobs.c.status == JobStatus.PENDING
        )
        with self._engine().connect() as conn:
            counts = {status: n for status, n in conn.execute(by_state)}
            depth, oldest_age = conn.execute(pending).one()
        states = GaugeMetricFamily(
            "rawexport_jobs", "Jobs in the job table by state.", labels=["state"]
        )
        for status in JobStatus:
            states.add_metric([status.value], counts.get(status.value, 0))
        yield states
        yield GaugeMetricFamily("rawexport_queue_depth", "Jobs waiting for a worker.", value=depth)
        yield GaugeMetricFamily(
            "rawexport_oldest_pending_job_age_seconds",
            "Seconds the oldest pending job has waited, by the database's clock (0: none).",
            value=max(0.0, oldest_age or 0.0),
        )
