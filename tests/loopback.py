"""Loopback ports for the servers the tests start.

A free port is found by binding port 0 and letting it go, so until a server binds it another
process may take it: under pytest-xdist several test processes start servers at once. So a
server counts as started only once its own process listens on its port (whatever else answers
there is not it), and a start that lost its port is tried again on another.
"""

from __future__ import annotations

import socket

import psutil

__all__ = ["PORT_TAKEN", "free_port", "listens"]

PORT_TAKEN = "address already in use"
"""What a server (uvicorn, PostgreSQL, werkzeug) logs when its port was taken, in lower case."""


def free_port() -> int:
    """A loopback port free at the moment of the call."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listens(pid: int, port: int) -> bool:
    """Whether process `pid` itself listens on TCP `port`."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)
