"""`space`, `user`, `token` and `app`: who may export which app.

The listings let an operator find a lost id again; tokens and keys are never listed (they are
kept only hashed): `token reset` issues a new token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rawexport.cli.common import emit, operator_command, runtime_for
from rawexport.cli.tables import emit_rows, field, moment
from rawexport.meta.accounts import App, User
from rawexport.observability import journal

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


@space.command("list")
@operator_command
def space_list(data_dir: Path, as_json: bool) -> None:
    """Every space, oldest first."""
    with runtime_for(data_dir) as rt:
        rows = [
            {"space_id": s.id, "name": s.name, "created_at": s.created_at}
            for s in rt.accounts.spaces()
        ]
    columns = {"space": field("space_id"), "name": field("name")}
    emit_rows(as_json, "spaces", rows, {**columns, "created (UTC)": field("created_at", moment)})


@space.command("webhook-secret")
@click.argument("space_id")
@click.option("--rotate", is_flag=True, help="Replace the secret; the old one stops at once.")
@operator_command
def space_webhook_secret(space_id: str, rotate: bool, data_dir: Path, as_json: bool) -> None:
    """Show the key that signs the space's webhooks (made on first use), or replace it."""
    with runtime_for(data_dir) as rt:
        secret = rt.accounts.webhook_secret(space_id, rotate=rotate)
    emit(as_json, {"space_id": space_id, "webhook_secret": secret})


def _user_row(u: User) -> dict[str, Any]:
    return {
        "user_id": u.id,
        "space_id": u.space_id,
        "email": u.email,
        "api_access": u.api_access,
        "raw_export_access": u.raw_export_access,
    }


def _app_row(a: App) -> dict[str, Any]:
    return {"app_id": a.id, "space_id": a.space_id, "name": a.name}


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


@user.command("list")
@click.option("--space", "space_id", required=True, help="Space id (rawexport space list).")
@operator_command
def user_list(space_id: str, data_dir: Path, as_json: bool) -> None:
    """The users of a space with their access flags."""
    with runtime_for(data_dir) as rt:
        rows = [_user_row(u) for u in rt.accounts.users(space_id)]
    columns = {"user": field("user_id"), "email": field("email"), "API": field("api_access")}
    emit_rows(as_json, "users", rows, {**columns, "RAW export": field("raw_export_access")})


@user.command("show")
@click.argument("user_id")
@operator_command
def user_show(user_id: str, data_dir: Path, as_json: bool) -> None:
    """A user: space, email, access flags and the apps the user may export."""
    with runtime_for(data_dir) as rt:
        found, granted = rt.accounts.user(user_id)
    apps = [_app_row(a) for a in granted]
    if as_json:
        emit(True, {**_user_row(found), "apps": apps})
        return
    emit(False, _user_row(found))
    emit_rows(False, "apps granted", apps, {"app": field("app_id"), "name": field("name")})


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
    """Change a user's access flags; prints them as they now are."""
    with runtime_for(data_dir) as rt:
        rt.accounts.set_user_flags(user_id, api=api, raw_export=raw_export)
        found, _ = rt.accounts.user(user_id)
    now = _user_row(found)
    emit(as_json, {k: now[k] for k in ("user_id", "api_access", "raw_export_access")})


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
        journal.token_reset(user_id)


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


@app.command("list")
@click.option("--space", "space_id", required=True, help="Space id (rawexport space list).")
@operator_command
def app_list(space_id: str, data_dir: Path, as_json: bool) -> None:
    """The apps of a space."""
    with runtime_for(data_dir) as rt:
        rows = [_app_row(a) for a in rt.accounts.apps(space_id)]
    emit_rows(as_json, "apps", rows, {"app": field("app_id"), "name": field("name")})


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
