"""The `rawexport` command: operating the service and pulling reports.

A command's module is imported only when that command runs: `rawexport --help` lists every
command from the one-line summaries here, so it answers at once and works on the client-only
install (httpx, click, rich), where the operating commands cannot run.
"""

from __future__ import annotations

import importlib
from importlib.util import find_spec

import click

from rawexport import __version__

__all__ = ["BASE_INSTALL", "COMMANDS", "SUMMARIES", "cli", "main"]

COMMANDS: dict[str, str] = {
    "demo": "rawexport.cli.demo:demo",
    "serve": "rawexport.cli.serve:serve",
    "worker": "rawexport.cli.worker:worker",
    "db": "rawexport.cli.db:db",
    "space": "rawexport.cli.accounts:space",
    "user": "rawexport.cli.accounts:user",
    "token": "rawexport.cli.accounts:token",
    "app": "rawexport.cli.accounts:app",
    "load": "rawexport.cli.load:load",
    "job": "rawexport.cli.jobs:job",
    "pull": "rawexport.cli.pull:pull",
}

SUMMARIES: dict[str, str] = {
    "demo": "Make a demo game's data, print a token and commands to try.",
    "serve": "Serve the RAW export API and run its export workers (--workers 0: the API only).",
    "worker": "Run export workers and the sweeper without HTTP, for a fleet.",
    "db": "The metadata database's schema: upgrade it to this release.",
    "space": "Spaces: list and create them; show or rotate their webhook secret.",
    "user": "Users of a space: list, show, create, set access.",
    "token": "Reset a user's API token.",
    "app": "Apps of a space: list, create, grant to users, revoke.",
    "load": "Load events or user cards from JSON lines, CSV or Parquet files.",
    "job": "Export jobs: what the workers did, with times, sizes and errors; cancel one.",
    "pull": "Export events into a directory: set a job, wait, download, extract.",
}
"""What `rawexport --help` says of a command without importing it (its module may need the
server install); a command missing here is imported for its own summary."""

BASE_INSTALL = frozenset({"pull"})
"""Commands that run on the client-only install; every other one needs `rawexport[server]`."""

_SERVER_EXTRA = "pip install 'rawexport[server]' (in a clone: pip install '.[server]')"
_SERVER_MODULES = ("fastapi", "uvicorn", "sqlalchemy", "chdb")


def _server_installed() -> bool:
    try:
        return all(find_spec(name) is not None for name in _SERVER_MODULES)
    except (ImportError, ValueError):  # an import system that refuses rather than not finds
        return False


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        try:
            command: click.Command = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            raise click.ClickException(
                f"`rawexport {cmd_name}` needs the server install ({exc.name} is missing):"
                f" {_SERVER_EXTRA}"
            ) from None
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Two sections, the analyst's and the operator's, from the summaries above."""
        rows = [(name, self._summary(ctx, name, formatter.width)) for name in COMMANDS]
        with formatter.section("Commands for analysts (client install)"):
            formatter.write_dl([row for row in rows if row[0] in BASE_INSTALL])
        installed = _server_installed()
        with formatter.section(
            "Commands for operators (server install)"
            if installed
            else "Commands for operators (need rawexport[server], not installed)"
        ):
            formatter.write_dl([row for row in rows if row[0] not in BASE_INSTALL])
        if not installed:
            formatter.write_paragraph()
            formatter.write_text(f"To run them: {_SERVER_EXTRA}")

    def _summary(self, ctx: click.Context, name: str, width: int) -> str:
        if name in SUMMARIES:
            return SUMMARIES[name]
        try:
            command = self.get_command(ctx, name)
        except click.ClickException:
            return "(needs the server install)"
        return "" if command is None else command.get_short_help_str(width)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="rawexport")
def cli() -> None:
    """rawexport: a self-hosted devtodev RAW export API.

    Every operating command takes --data-dir (env RAWEXPORT_DATA_DIR) and --json.
    """


def main() -> None:
    cli(prog_name="rawexport")


if __name__ == "__main__":
    main()
