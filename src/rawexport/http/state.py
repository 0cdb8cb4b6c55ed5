"""What every request handler reaches through `request.app.state`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from rawexport.runtime import Runtime

__all__ = ["AppState", "app_state"]


@dataclass
class AppState:
    runtime: Runtime
    notify_workers: Callable[[], None]
    admin_key: str
    """Lets `rawexport load` on this machine post files while the server owns the store."""


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.rawexport
    return state
