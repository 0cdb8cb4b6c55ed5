"""The `rawexport` command: operating the service (contract §9) and pulling reports.

Commands are imported when invoked, so `rawexport pull` runs on the base install (httpx, click,
rich) without the server's dependencies.
"""

from __future__ import annotations

import importlib

import click

from rawexport import __version__

__all__ = ["cli", "main"]

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
                f"`rawexport {cmd_name}` needs the server install: pip install 'rawexport[server]'"
                f" ({exc.name} is missing)"
            ) from None
        return command


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
