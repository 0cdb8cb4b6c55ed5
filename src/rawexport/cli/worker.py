"""`rawexport worker`: export workers and the report sweeper, with no HTTP.

Any number of worker processes on any machines share the queue in the metadata database; a
PostgreSQL notification wakes them when a job is submitted anywhere. SIGTERM or SIGINT stops the
process gracefully: running exports are interrupted and their jobs go back to the queue for
another worker, within `STOP_GRACE_S` seconds even for an export that does not notice.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from rawexport.cli.common import operator_command, runtime_for
from rawexport.cli.options import setting_options
from rawexport.cli.serverfile import read_server_info
from rawexport.export.engine import run_export
from rawexport.observability import logs
from rawexport.observability.exposition import start_metrics_server
from rawexport.runtime import Runtime
from rawexport.workers.pool import WorkerPool

__all__ = ["READY", "run_workers", "worker"]

log = logging.getLogger("rawexport.worker")

READY = "rawexport worker ready"
"""The start of the log line written once the workers are taking jobs."""


@click.command()
@setting_options()
@operator_command
def worker(data_dir: Path, as_json: bool, **overrides: Any) -> None:
    """Run export workers and the report sweeper, with no API; stop with SIGTERM or Ctrl-C."""
    with runtime_for(data_dir, **overrides) as rt:
        logs.configure(rt.settings.log_format)
        if rt.settings.workers < 1:
            raise click.ClickException("--workers must be at least 1 for `rawexport worker`")
        running = read_server_info(data_dir) if rt.owns_data_dir else None
        if running is not None:
            raise click.ClickException(
                f"the server (pid {running.pid}) owns the embedded event store of {data_dir}; "
                "run it with workers, or give both a shared store (RAWEXPORT_STORE_URL)"
            )
        run_workers(rt)


def run_workers(rt: Runtime) -> None:
    """Work until SIGTERM or SIGINT, then hand the running jobs back and return."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    pool = WorkerPool(rt.jobs, rt.store, rt.reports, rt.settings, run_export)
    pool.start()
    port = rt.settings.metrics_port
    stop_metrics = start_metrics_server(port, lambda: rt.engine) if port else None
    log.info("%s: %d export workers, pid %d", READY, rt.settings.workers, os.getpid())
    try:
        stopping.wait()
    finally:
        if stop_metrics:
            stop_metrics()
        pool.stop()
        log.info("rawexport worker stopped")
