"""The event store: open a backend by URL; see `base.EventStore` for the interface."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rawexport.store.base import EventStore, Params, ResultStream, StoreError
from rawexport.store.clickhouse import ClickHouseStore
from rawexport.store.clickhouse_url import SCHEMES as CLICKHOUSE_SCHEMES
from rawexport.store.loading import LoadError, LoadReport, load_file
from rawexport.store.schema import ensure_schema, known_custom_events, table_name

__all__ = [
    "ClickHouseStore",
    "EventStore",
    "LoadError",
    "LoadReport",
    "Params",
    "ResultStream",
    "StoreError",
    "ensure_schema",
    "known_custom_events",
    "load_file",
    "open_store",
    "table_name",
]

_ACCEPTED = "chdb:///absolute/path, clickhouse://USER:PASSWORD@HOST:8123/DB or clickhouses://..."


def _embedded(url: str) -> EventStore:
    # Imported here: chDB's library takes hundreds of MB that a process on a server never uses.
    from rawexport.store.chdb import ChdbStore

    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc or not path.startswith("/"):
        raise ValueError(f"event store URL {url!r} must name an absolute path: chdb:///abs/path")
    return ChdbStore(Path(path))


_BACKENDS: dict[str, Callable[..., EventStore]] = {
    "chdb": _embedded,
    **dict.fromkeys(CLICKHOUSE_SCHEMES, ClickHouseStore),
}


def open_store(url: str) -> EventStore:
    """The event store at `url`, by its scheme: `chdb:///abs/path` opens (and creates) an
    embedded store, `clickhouse://` and `clickhouses://` a database on a ClickHouse server."""
    scheme = urlsplit(url).scheme
    backend = _BACKENDS.get(scheme)
    if backend is None:
        # The URL is not repeated: it may hold a password.
        raise ValueError(f"unsupported event store URL scheme {scheme!r}: use {_ACCEPTED}")
    return backend(url)
