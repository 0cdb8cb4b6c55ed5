"""One command-line option per registry setting, shared by the commands that run the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from rawexport.settings import SETTINGS

__all__ = ["setting_options"]

F = TypeVar("F", bound=Callable[..., Any])

_TUNABLE = [s for s in SETTINGS if s.name != "data_dir"]  # `operator_command` adds --data-dir


def setting_options(*names: str) -> Callable[[F], F]:
    """Options for the settings `names` (default: all), so `--help` lists what the command reads.

    Each option defaults to None: `Settings.load` then takes the environment, else the registry's
    default, and the help shows both.
    """
    chosen = [s for s in _TUNABLE if not names or s.name in names]

    def decorate(func: F) -> F:
        for s in reversed(chosen):
            flag = "--" + s.name.replace("_", "-")
            default = "" if s.default in (None, "") else f" [default: {s.default}]"
            func = click.option(
                flag, s.name, type=s.type, default=None, help=f"{s.help} Env: {s.env}.{default}"
            )(func)
        return func

    return decorate
