"""`space`, `user`, `token` and `app`: who may export which app."""

from __future__ import annotations

from pathlib import Path

import click

from rawexport.cli.common import emit, operator_command, runtime_for

__all__ = ["app", "space", "token", "user"]


@click.group()
def space() -> None:
    """Spaces: the unit that owns apps, users and the daily space quota."""


@space.command("create")
@click.argument("name")
@operator_command
def space_create(name: str, data_dir: Path, as_json: bool) -> None:
    """Create a space; prints its id."""
    with runtime_for(data_dir) as rt:
        emit(as_json, {"space_id": rt.accounts.create_space(name)})


@click.group()
def user() -> None:
    """Users of a space and their access flags."""


@user.command("create")
@click.option("--space", "space_id", required=True, help="Space id.")
@click.option("--email", required=True)
@operator_command
def user_create(space_id: str, email: str, data_dir: Path, as_json: bool) -> None:
    """Create a user with API and RAW export access; prints the token once."""
    with runtime_for(data_dir) as rt:
        user_id, token = rt.accounts.create_user(space_id, email)
        emit(as_json, {"user_id": user_id, "user_token": token})


@user.command("set")
@click.argument("user_id")
@click.option("--api/--no-api", default=None, help="Access to the API (code 15 without).")
@click.option(
    "--raw-export/--no-raw-export", default=None, help="Access to RAW export (code 16 without)."
)
@operator_command
def user_set(
    user_id: str, api: bool | None, raw_export: bool | None, data_dir: Path, as_json: bool
) -> None:
    """Change a user's access flags."""
    with runtime_for(data_dir) as rt:
        rt.accounts.set_user_flags(user_id, api=api, raw_export=raw_export)
        emit(as_json, {"user_id": user_id})


@click.group()
def token() -> None:
    """User API tokens."""


@token.command("reset")
@click.argument("user_id")
@operator_command
def token_reset(user_id: str, data_dir: Path, as_json: bool) -> None:
    """Issue a new token; the old one stops working at once."""
    with runtime_for(data_dir) as rt:
        emit(as_json, {"user_token": rt.accounts.reset_token(user_id)})


@click.group()
def app() -> None:
    """Apps of a space and which users may export them."""


@app.command("create")
@click.option("--space", "space_id", required=True, help="Space id.")
@click.argument("name")
@operator_command
def app_create(space_id: str, name: str, data_dir: Path, as_json: bool) -> None:
    """Create an app; prints its id and its ingest key (for POST /api/v1/events)."""
    with runtime_for(data_dir) as rt:
        app_id, ingest_key = rt.accounts.create_app(space_id, name)
        emit(as_json, {"app_id": app_id, "ingest_key": ingest_key})


@app.command("grant")
@click.argument("user_id")
@click.argument("app_id")
@operator_command
def app_grant(user_id: str, app_id: str, data_dir: Path, as_json: bool) -> None:
    """Let a user export an app of the user's space."""
    with runtime_for(data_dir) as rt:
        rt.accounts.grant(user_id, app_id)
        emit(as_json, {"user_id": user_id, "app_id": app_id})


@app.command("revoke")
@click.argument("user_id")
@click.argument("app_id")
@operator_command
def app_revoke(user_id: str, app_id: str, data_dir: Path, as_json: bool) -> None:
    """Take an app away from a user (its reports can no longer be downloaded either)."""
    with runtime_for(data_dir) as rt:
        rt.accounts.revoke(user_id, app_id)
        emit(as_json, {"user_id": user_id, "app_id": app_id})
