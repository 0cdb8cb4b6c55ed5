"""`rawexport load`: events or user cards from files, into the store or through the server."""

from __future__ import annotations

from pathlib import Path

import click
import httpx
from rich.console import Console

from rawexport.cli.common import emit, operator_command, runtime_for
from rawexport.cli.serverfile import ServerInfo, read_server_info
from rawexport.store.loading import FILE_FORMATS, LoadError, load_file

__all__ = ["load"]


@click.command()
@click.option("--app", "app_id", required=True, help="App id the rows belong to.")
@click.option("--users", is_flag=True, help="The files hold user cards, not events.")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@operator_command
def load(app_id: str, users: bool, files: tuple[Path, ...], data_dir: Path, as_json: bool) -> None:
    """Load events (or, with --users, user cards) from JSON lines, CSV or Parquet FILES.

    The ending says the format (.jsonl, .csv, .parquet); every table's fields are in
    docs/loading.md. A file with a bad line stores nothing and names the line. Load a file of
    events once: loading it again stores its events again. While `rawexport serve` runs on the
    same data directory, the files are sent to it.
    """
    for path in files:
        if path.suffix.lower() not in FILE_FORMATS:
            raise click.ClickException(f"{path}: unknown file type (use .jsonl, .csv or .parquet)")
    server = read_server_info(data_dir)
    rows: dict[str, int] = {}
    console = Console(stderr=True, quiet=as_json)
    with runtime_for(data_dir) as rt:
        if rt.accounts.app(app_id) is None:
            raise click.ClickException(f"unknown app {app_id}")
        for number, path in enumerate(files, 1):
            size = path.stat().st_size / 1e6
            status = f"Loading {path.name} ({size:,.1f} MB), file {number} of {len(files)}"
            with console.status(status):
                if server is not None:
                    loaded = _post(server, app_id, path, users)
                else:
                    try:
                        loaded = load_file(rt.store, app_id, path, users=users).rows
                    except LoadError as exc:
                        raise click.ClickException(str(exc)) from None
            for name, n in loaded.items():
                rows[name] = rows.get(name, 0) + n
    emit(as_json, {"rows": rows, "total": sum(rows.values())})


def _post(server: ServerInfo, app_id: str, path: Path, users: bool) -> dict[str, int]:
    endpoint = "users" if users else "events"
    with path.open("rb") as body:
        response = httpx.post(
            f"{server.url}/api/v1/{endpoint}",
            params={"app_id": app_id, "format": FILE_FORMATS[path.suffix.lower()]},
            headers={"X-Ingest-Key": server.admin_key, "X-Source-Name": path.name},
            content=body,
            timeout=None,
        )
    answer = response.json()
    if response.status_code != 200:
        raise click.ClickException("; ".join(e["msg"] for e in answer.get("errors", [])))
    loaded: dict[str, int] = answer["data"]["rows"]
    return loaded
