"""`rawexport load`: events or user cards from files, into the store or through the server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from rawexport.cli.common import emit, operator_command, runtime_for
from rawexport.cli.serverfile import ServerInfo, read_server_info
from rawexport.domain.paths import LOADING_PREFIX
from rawexport.store.leftovers import remove_leftovers
from rawexport.store.loading import FILE_FORMATS, LeaseLapsed, LoadError, LoadReport, load_file

__all__ = ["load"]

_BLOCK = 1 << 20


@click.command()
@click.option("--app", "app_id", required=True, help="App id the rows belong to.")
@click.option("--users", is_flag=True, help="The files hold user cards, not events.")
@click.option("--force", is_flag=True, help="Load files again that were loaded before.")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@operator_command
def load(
    app_id: str, users: bool, force: bool, files: tuple[Path, ...], data_dir: Path, as_json: bool
) -> None:
    """Load events (or, with --users, user cards) from JSON lines, CSV or Parquet FILES.

    The ending says the format (.jsonl, .csv, .parquet); every table's fields are in
    docs/loading.md. A file with a bad line stores nothing and names the line. A file loaded
    before (the same bytes for the same app) is skipped, unless --force. While `rawexport serve`
    runs on the same data directory, the files are sent to it.
    """
    for path in files:
        if path.suffix.lower() not in FILE_FORMATS:
            raise click.ClickException(f"{path}: unknown file type (use .jsonl, .csv or .parquet)")
    server = read_server_info(data_dir)
    rows: Counter[str] = Counter()
    skipped: list[str] = []
    console = Console(stderr=True, quiet=as_json)
    with runtime_for(data_dir) as rt:
        if rt.accounts.app(app_id) is None:
            raise click.ClickException(f"unknown app {app_id}")
        if server is None:  # an embedded store is this process's alone (see serve)
            remove_leftovers(rt.store, 0 if rt.owns_data_dir else rt.settings.staging_ttl_s)
        for number, path in enumerate(files, 1):
            what = f"{path.name} ({number} of {len(files)})"
            if server is not None:
                report = _post(server, app_id, path, users, force, console, what)
            else:
                try:
                    with console.status(f"Loading {what}, {path.stat().st_size / 1e6:,.1f} MB"):
                        report = load_file(
                            rt.store, app_id, path, ledger=rt.batches, users=users, force=force
                        )
                except (LoadError, LeaseLapsed) as exc:
                    raise click.ClickException(str(exc)) from None
            if report.already_loaded_on is not None:
                skipped.append(path.name)
                console.print(
                    f"{path}: already loaded on {report.already_loaded_on}; --force loads it again"
                )
            rows.update(report.rows)
    if as_json:
        loaded: dict[str, object] = {"rows": dict(rows), "total": rows.total()}
        if skipped:
            loaded["skipped"] = skipped  # the files loaded before, by name
        emit(True, loaded)
    else:
        Console().print(_rows_table(rows))


def _rows_table(rows: Counter[str]) -> Table:
    table = Table("loaded into", "rows")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    table.add_section()
    table.add_row("total", f"{rows.total():,}")
    return table


def _post(
    server: ServerInfo,
    app_id: str,
    path: Path,
    users: bool,
    force: bool,
    console: Console,
    what: str,
) -> LoadReport:
    """Send the file with a bar of the bytes sent; then the server checks and stores it."""
    endpoint = "users" if users else "events"
    size = path.stat().st_size
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    bar = Progress(
        *columns, TransferSpeedColumn(), TimeElapsedColumn(), console=console, transient=True
    )
    with bar:
        task = bar.add_task(f"Sending {what}", total=size)

        def sent(octets: int) -> None:
            bar.advance(task, octets)
            if bar.tasks[0].completed >= size:
                bar.update(task, description=f"The server checks and stores {what}")

        response = httpx.post(
            f"{server.url}{LOADING_PREFIX}/{endpoint}",
            params={
                "app_id": app_id,
                "format": FILE_FORMATS[path.suffix.lower()],
                **({"force": "1"} if force else {}),
            },
            headers={
                "X-Ingest-Key": server.admin_key,
                "X-Source-Name": path.name,
                "Content-Length": str(size),
            },
            content=_blocks(path, sent),
            timeout=None,
        )
    answer = response.json()
    if response.status_code != 200:
        raise click.ClickException("; ".join(e["msg"] for e in answer.get("errors", [])))
    data = answer["data"]
    return LoadReport(data["rows"], data.get("already_loaded_on"))


def _blocks(path: Path, sent: Callable[[int], None]) -> Iterator[bytes]:
    with path.open("rb") as source:
        while block := source.read(_BLOCK):
            yield block
            sent(len(block))
