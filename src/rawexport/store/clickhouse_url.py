"""The address of a ClickHouse server, from `clickhouse://USER:PASSWORD@HOST:PORT/DB`."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

__all__ = ["SCHEMES", "ServerAddress"]

SCHEMES = {"clickhouse": ("http", 8123), "clickhouses": ("https", 8443)}
"""URL scheme: the HTTP scheme it stands for and ClickHouse's default port for it."""
_FORM = "clickhouse://USER:PASSWORD@HOST:8123/DB (clickhouses:// for TLS)"


@dataclass(frozen=True)
class ServerAddress:
    base_url: str
    """Where the HTTP interface answers, e.g. `http://host:8123`."""
    database: str
    user: str
    password: str = field(repr=False)
    shown: str
    """The URL without its password, for messages and logs."""

    @classmethod
    def parse(cls, url: str) -> ServerAddress:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValueError(f"not a ClickHouse server URL (expected {_FORM})")
        http, default_port = SCHEMES[parts.scheme]
        host = parts.hostname
        database = unquote(parts.path.removeprefix("/"))
        if not host or not database or "/" in database or parts.query or parts.fragment:
            raise ValueError(f"a ClickHouse server URL names a host and a database: {_FORM}")
        try:
            port = parts.port or default_port
        except ValueError:
            raise ValueError(f"the port of a ClickHouse server URL is a number: {_FORM}") from None
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        user = unquote(parts.username or "default")
        return cls(
            base_url=f"{http}://{netloc}",
            database=database,
            user=user,
            password=unquote(parts.password or ""),
            shown=f"{parts.scheme}://{user}@{netloc}/{database}",
        )
