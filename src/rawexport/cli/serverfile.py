"""`DATA_DIR/server.json`: how other commands find the server that owns the data directory.

The embedded event store belongs to one process; while `rawexport serve` runs, `rawexport load`
posts to it instead of opening the store. The file holds a random admin key, so it is written
with mode 0600 and removed when the server stops.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["ServerInfo", "read_server_info", "remove_server_info", "write_server_info"]

FILENAME = "server.json"


@dataclass(frozen=True)
class ServerInfo:
    url: str
    pid: int
    admin_key: str


def write_server_info(data_dir: Path, url: str) -> ServerInfo:
    info = ServerInfo(url, os.getpid(), secrets.token_urlsafe(32))
    path = data_dir / FILENAME
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(info), out)
    os.replace(tmp, path)
    return info


def read_server_info(data_dir: Path) -> ServerInfo | None:
    """The live server of `data_dir`, or None (no file, or its process is gone)."""
    try:
        info = ServerInfo(**json.loads((data_dir / FILENAME).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return info


def remove_server_info(data_dir: Path, info: ServerInfo) -> None:
    if read_server_info(data_dir) == info:
        (data_dir / FILENAME).unlink(missing_ok=True)
