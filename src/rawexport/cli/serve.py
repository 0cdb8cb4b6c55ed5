"""`rawexport serve`: the API, with its export workers in the same process unless `--workers 0`.

Embedded mode (the event store is chDB inside DATA_DIR) makes this process the owner of the data
directory: it writes `DATA_DIR/server.json` with the admin key that lets `rawexport load` on this
machine post files to it. A node whose event store is a server owns no data directory: it writes
no server.json, so any number of nodes may run on one machine, and `rawexport load` there writes
to the shared store directly.
"""

from __future__ import annotations

import logging
import secrets
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import click
import uvicorn

from rawexport.cli.common import operator_command, runtime_for
from rawexport.cli.options import setting_options
from rawexport.cli.serverfile import read_server_info, remove_server_info, write_server_info
from rawexport.export.engine import run_export
from rawexport.http.app import create_app
from rawexport.observability import logs
from rawexport.runtime import Runtime
from rawexport.store.leftovers import remove_leftovers
from rawexport.workers.pool import WorkerPool

__all__ = ["run_server", "serve"]

log = logging.getLogger("rawexport.serve")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@setting_options()
@operator_command
def serve(host: str, port: int, data_dir: Path, as_json: bool, **overrides: Any) -> None:
    """Serve the RAW export API and run its export workers (`--workers 0`: the API alone)."""
    with runtime_for(data_dir, **overrides) as rt:
        running = read_server_info(data_dir) if rt.owns_data_dir else None
        if running is not None:
            raise click.ClickException(
                f"a server (pid {running.pid}) already serves {data_dir} at {running.url}"
            )
        run_server(rt, host, port)


def run_server(rt: Runtime, host: str, port: int) -> None:
    """Serve until interrupted; workers start with the app and stop before it exits."""
    logs.configure(rt.settings.log_format)
    webhooks_on = rt.webhook_hosts.enabled  # parsed now: a malformed setting stops the start
    # Before taking requests: an embedded store is this process's alone, so every staging
    # table in it is a crashed load's.
    remove_leftovers(rt.store, 0 if rt.owns_data_dir else rt.settings.staging_ttl_s)
    pool = (
        WorkerPool(rt.jobs, rt.store, rt.reports, rt.settings, run_export)
        if rt.settings.workers
        else None
    )

    def start_workers() -> Callable[[], None]:
        assert pool is not None
        pool.start()
        return pool.stop

    info = (
        write_server_info(rt.settings.data_dir, f"http://{host}:{port}")
        if rt.owns_data_dir
        else None
    )
    app = create_app(
        rt,
        # Without server.json no one learns a key, so posting with the admin key is off.
        admin_key=info.admin_key if info else secrets.token_urlsafe(32),
        start_workers=start_workers if pool else None,
        notify_workers=pool.notify if pool else lambda: None,
    )
    if not webhooks_on:  # said once every part opened, so a failed start stays one line
        log.info("webhooks are off (RAWEXPORT_WEBHOOK_HOSTS is empty)")
    # log_config=None: uvicorn's loggers keep the format configured above.
    config = uvicorn.Config(app, host=host, port=port, log_level="info", log_config=None)
    # uvicorn stops on SIGTERM and then raises the signal again, for the handler it found: the
    # default one would end the process before `finally` removes server.json.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.Server(config).run()
    finally:
        if info is not None:
            remove_server_info(rt.settings.data_dir, info)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # the exit status of a process ended by the signal
