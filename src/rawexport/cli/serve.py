"""`rawexport serve`: the API and its export workers in one process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import uvicorn

from rawexport.cli.common import operator_command, runtime_for
from rawexport.cli.serverfile import read_server_info, remove_server_info, write_server_info
from rawexport.export.engine import run_export
from rawexport.http import access_log
from rawexport.http.app import create_app
from rawexport.runtime import Runtime
from rawexport.settings import SETTINGS
from rawexport.workers.pool import WorkerPool

__all__ = ["serve"]

_TUNABLE = [s for s in SETTINGS if s.name != "data_dir"]


def _setting_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """One option per registry setting, so `--help` always lists what the service reads."""
    for s in reversed(_TUNABLE):
        flag = "--" + s.name.replace("_", "-")
        default = "" if s.default is None else f" [default: {s.default}]"
        func = click.option(
            flag, s.name, type=s.type, default=None, help=f"{s.help} Env: {s.env}.{default}"
        )(func)
    return func


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@_setting_options
@operator_command
def serve(host: str, port: int, data_dir: Path, as_json: bool, **overrides: Any) -> None:
    """Serve the RAW export API and run its export workers."""
    running = read_server_info(data_dir)
    if running is not None:
        raise click.ClickException(
            f"a server (pid {running.pid}) already serves {data_dir} at {running.url}"
        )
    with runtime_for(data_dir, **overrides) as rt:
        run_server(rt, host, port)


def run_server(rt: Runtime, host: str, port: int) -> None:
    """Serve until interrupted; workers start with the app and stop before it exits."""
    rt.store  # noqa: B018 - open the event store before taking requests
    pool = WorkerPool(rt.jobs, rt.store, rt.settings, run_export)

    def start_workers() -> Callable[[], None]:
        pool.start()
        return pool.stop

    info = write_server_info(rt.settings.data_dir, f"http://{host}:{port}")
    app = create_app(
        rt, admin_key=info.admin_key, start_workers=start_workers, notify_workers=pool.notify
    )
    config = uvicorn.Config(app, host=host, port=port, log_level="info")
    access_log.install()
    try:
        uvicorn.Server(config).run()
    finally:
        remove_server_info(rt.settings.data_dir, info)
