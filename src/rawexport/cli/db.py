"""`rawexport db upgrade`: bring the metadata database's schema to this release's revision.

Embedded mode upgrades its own database at start. A shared database is upgraded by this command,
once, after the nodes of the previous release are stopped and before the new ones start (they
refuse to start on an older schema rather than upgrade it under a running fleet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from rawexport.cli.common import emit, operator_command
from rawexport.cli.options import setting_options
from rawexport.meta.db import open_engine
from rawexport.meta.migrations import upgrade
from rawexport.settings import Settings

__all__ = ["db"]


@click.group()
def db() -> None:
    """The metadata database's schema."""


@db.command("upgrade")
@setting_options("database_url")
@operator_command
def db_upgrade(data_dir: Path, as_json: bool, **overrides: Any) -> None:
    """Apply the migrations this release brings (an up-to-date database is left as it is)."""
    url = Settings.load({"data_dir": data_dir, **overrides}).metadata_url
    engine = open_engine(url)
    try:
        done = upgrade(engine)
    finally:
        engine.dispose()
    emit(
        as_json,
        {
            "database": make_url(url).render_as_string(hide_password=True),
            "before": done.before,
            "after": done.after,
            "upgraded": done.changed,
        },
    )
