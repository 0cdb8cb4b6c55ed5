"""`rawexport demo`: a demo space, user, app and a synthetic game's events, ready to export."""

from __future__ import annotations

import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rawexport.cli.common import emit, operator_command, runtime_for
from rawexport.cli.demo_example import DemoAccess, example_commands, rawexport_command
from rawexport.cli.serve import run_server
from rawexport.cli.serverfile import read_server_info
from rawexport.demo.generator import generate_demo
from rawexport.runtime import Runtime

__all__ = ["demo"]

DEMO_FILE = "demo.json"
_LOADING = {"cards": "Loading the player cards", "events": "Loading the events"}


@click.command()
@click.option("--users", default=10_000, show_default=True, help="Number of players.")
@click.option("--days", default=30, show_default=True, help="Days of activity, ending now.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same game).")
@click.option("--serve", "then_serve", is_flag=True, help="Then serve the API (make demo).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Server address.")
@click.option("--port", default=8000, show_default=True, help="Server port.")
@operator_command
def demo(
    users: int,
    days: int,
    seed: int,
    then_serve: bool,
    host: str,
    port: int,
    data_dir: Path,
    as_json: bool,
) -> None:
    """Create a demo space, user and app with synthetic events; print a token and an example.

    Run again on the same data directory, it keeps the data and issues a fresh token.
    """
    if read_server_info(data_dir) is not None:
        raise click.ClickException(f"a server is running on {data_dir}; stop it first")
    if then_serve:
        _check_port_free(host, port)  # before the data is made, not half a minute later
    console = Console(stderr=True)
    try:
        with runtime_for(data_dir) as rt:
            saved = data_dir / DEMO_FILE
            if saved.exists():
                info: dict[str, Any] = json.loads(saved.read_text())
                info["user_token"] = rt.accounts.reset_token(info["user_id"])
            else:
                info = _create(rt, console, users=users, days=days, seed=seed)
                saved.write_text(json.dumps({k: v for k, v in info.items() if k != "user_token"}))
            if as_json:
                emit(True, info)
            else:
                _print_example(console, info, f"http://{host}:{port}")
            if then_serve:
                run_server(rt, host, port)
    except KeyboardInterrupt:
        # Ctrl-C is how a demo ends: no "Aborted!" and no exit status for make to report.
        console.print("Stopped.")


def _create(rt: Runtime, console: Console, *, users: int, days: int, seed: int) -> dict[str, Any]:
    space_id = rt.accounts.create_space("Demo studio")
    user_id, token = rt.accounts.create_user(space_id, "analyst@demo.example")
    app_id, _ = rt.accounts.create_app(space_id, "Demo game")
    rt.accounts.grant(user_id, app_id)
    end = int(time.time())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with (
        Progress(*columns, TimeElapsedColumn(), console=console) as bars,
        tempfile.TemporaryDirectory() as workdir,
    ):
        task = bars.add_task(f"Playing {days} days of the demo game", total=users)

        def show(step: str, done: int) -> None:
            if step == "players":
                bars.update(task, completed=done)
            else:  # loading has no count to show: the bar pulses
                bars.update(task, description=_LOADING[step], total=None)

        rt.store  # noqa: B018 - open the event store while the bar is on screen
        made = generate_demo(
            rt.store,
            app_id,
            ledger=rt.batches,
            users=users,
            days=days,
            seed=seed,
            end=end,
            workdir=Path(workdir),
            on_step=show,
        )
        bars.update(task, description=f"{made.events:,} events", total=users, completed=users)
    return {
        "space_id": space_id,
        "user_id": user_id,
        "user_token": token,
        "app_id": app_id,
        "start_date": end - days * 86400,
        "end_date": end,
    }


def _print_example(console: Console, info: dict[str, Any], base: str) -> None:
    console.print(f"[bold]User API token:[/] {info['user_token']}")
    console.print(f"[bold]App id:[/] {info['app_id']}\n")
    access = DemoAccess(base, info["user_token"], info["app_id"], info["end_date"])
    click.echo(example_commands(access, rawexport_command()))


def _check_port_free(host: str, port: int) -> None:
    """Bind as the server will (address reuse on, as uvicorn sets it) and let go at once."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another port:"
                f" make demo PORT={port + 1}, or rawexport demo --serve --port {port + 1}"
            ) from None
