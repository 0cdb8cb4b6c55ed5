"""What every operating command shares: `--data-dir`, `--json`, one-line errors."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from rawexport.meta.accounts import AccountError
from rawexport.reports import ReportStoreError
from rawexport.runtime import Runtime
from rawexport.settings import SETTINGS, Settings

__all__ = ["PRIVATE_UMASK", "emit", "operator_command", "runtime_for"]

F = TypeVar("F", bound=Callable[..., Any])

_DATA_DIR = next(s for s in SETTINGS if s.name == "data_dir")

PRIVATE_UMASK = 0o077
"""The data directory holds emails, job specs, tokens' hashes and every report: whatever the
caller's umask, what a command creates there is for the service's user alone (0700 / 0600)."""


def operator_command(func: F) -> F:
    """Adds `--data-dir` and `--json` and turns account, settings and report storage errors into
    one-line messages."""

    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=_DATA_DIR.env,
        default=_DATA_DIR.default,
        show_default=True,
        show_envvar=True,
        help=_DATA_DIR.help,
    )
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (AccountError, ReportStoreError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def runtime_for(data_dir: Path, **overrides: object) -> Iterator[Runtime]:
    os.umask(PRIVATE_UMASK)
    _make_private(data_dir)
    runtime = Runtime(Settings.load({"data_dir": data_dir, **overrides}))
    try:
        yield runtime
    finally:
        runtime.close()


def _make_private(data_dir: Path) -> None:
    """Create the data directory 0700, or take group and other access from one that exists (a
    directory made before, under a laxer umask): nothing inside is reachable through it then."""
    data_dir.mkdir(parents=True, exist_ok=True)
    mode = data_dir.stat().st_mode & 0o777
    if mode & ~0o700:
        data_dir.chmod(mode & 0o700)


def emit(as_json: bool, data: dict[str, Any]) -> None:
    """One JSON object with `--json`, else one `key: value` line each."""
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")
