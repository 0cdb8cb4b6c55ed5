"""`rawexport demo`: a demo space, user, app and a synthetic game's events, ready to export."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from rawexport.cli.common import emit, operator_command, runtime_for
from rawexport.cli.serve import run_server
from rawexport.cli.serverfile import read_server_info
from rawexport.demo.generator import generate_demo
from rawexport.runtime import Runtime

__all__ = ["demo"]

DEMO_FILE = "demo.json"


@click.command()
@click.option("--users", default=10_000, show_default=True, help="Number of players.")
@click.option("--days", default=30, show_default=True, help="Days of activity, ending now.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same game).")
@click.option("--serve", "then_serve", is_flag=True, help="Then serve the API (make demo).")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve.")
@click.option("--port", default=8000, show_default=True, help="With --serve.")
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
    console = Console(stderr=True)
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


def _create(rt: Runtime, console: Console, *, users: int, days: int, seed: int) -> dict[str, Any]:
    space_id = rt.accounts.create_space("Demo studio")
    user_id, token = rt.accounts.create_user(space_id, "analyst@demo.example")
    app_id, _ = rt.accounts.create_app(space_id, "Demo game")
    rt.accounts.grant(user_id, app_id)
    end = int(time.time())
    with (
        console.status(f"Generating {users:,} players over {days} days..."),
        tempfile.TemporaryDirectory() as workdir,
    ):
        generate_demo(
            rt.store, app_id, users=users, days=days, seed=seed, end=end, workdir=Path(workdir)
        )
    return {
        "space_id": space_id,
        "user_id": user_id,
        "user_token": token,
        "app_id": app_id,
        "start_date": end - days * 86400,
        "end_date": end,
    }


def _print_example(console: Console, info: dict[str, Any], base: str) -> None:
    token, api = info["user_token"], f"{base}/api/v1/rawexport"
    body = json.dumps(
        {
            "app_id": info["app_id"],
            "start_date": info["start_date"],
            "end_date": info["end_date"],
            "events": ["rp", "lu", {"name": "levelComplete", "filters": {"difficulty": {"gt": 5}}}],
        }
    )
    console.print(f"[bold]User API token:[/] {token}\n[bold]App id:[/] {info['app_id']}\n")
    click.echo(
        "# assign a job, poll it, download the ZIP:\n"
        f"JOB=$(curl -s -X POST '{api}/setjob?user_token={token}' -d '{body}' \\\n"
        "      | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"data\"])')\n"
        f"curl -s '{api}/getprogress?user_token={token}&job_id='$JOB\n"
        f"curl -s -o report.zip '{api}/download/?user_token={token}&job_id='$JOB\n\n"
        "# or all three steps at once:\n"
        f"RAWEXPORT_TOKEN={token} .venv/bin/rawexport pull --url {base} "
        f"--app {info['app_id']} --from {info['start_date']} --to {info['end_date']} "
        "--event rp --event lu -o report/\n"
    )
