"""The event store: open a backend by URL; see `base.EventStore` for the interface."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from rawexport.store.base import EventStore, Params
from rawexport.store.chdb import ChdbStore
from rawexport.store.loading import LoadError, LoadReport, load_file
from rawexport.store.schema import ensure_schema, known_custom_events, table_name

__all__ = [
    "ChdbStore",
    "EventStore",
    "LoadError",
    "LoadReport",
    "Params",
    "ensure_schema",
    "known_custom_events",
    "load_file",
    "open_store",
    "table_name",
]


def open_store(url: str) -> EventStore:
    """The event store at `url`; `chdb:///abs/path` opens (and creates) an embedded store."""
    parts = urlsplit(url)
    if parts.scheme != "chdb":
        raise ValueError(
            f"unsupported event store URL {url!r}: the accepted scheme is chdb:///absolute/path"
        )
    path = unquote(parts.path)
    if parts.netloc or not path.startswith("/"):
        raise ValueError(f"event store URL {url!r} must name an absolute path: chdb:///abs/path")
    return ChdbStore(Path(path))
