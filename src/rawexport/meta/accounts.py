"""Spaces, users, apps and grants: who may export which app.

User tokens and ingest keys are `secrets.token_urlsafe(32)` values handed out once and stored only
as their SHA-256: with 256 random bits there is nothing to brute-force, so a slow password hash
would only slow every request down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rawexport.meta.clock import db_now
from rawexport.meta.schema import apps, grants, spaces, users
from rawexport.webhooks.signing import new_secret

__all__ = [
    "Accounts",
    "AccountError",
    "App",
    "Duplicate",
    "NotFound",
    "Space",
    "User",
    "space_webhook_secret",
]


class AccountError(Exception):
    """An account command that cannot be done; the text is a one-line answer for the operator."""


class NotFound(AccountError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} not found: {ident}")
        self.kind, self.ident = kind, ident


class Duplicate(AccountError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} already exists: {key}")
        self.kind, self.key = kind, key


@dataclass(frozen=True)
class Space:
    id: str
    name: str
    created_at: float


@dataclass(frozen=True)
class User:
    id: str
    space_id: str
    email: str
    api_access: bool
    raw_export_access: bool


@dataclass(frozen=True)
class App:
    id: str
    space_id: str
    name: str


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, _digest(secret)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user(row: Row[Any]) -> User:
    return User(row.id, row.space_id, row.email, row.api_access, row.raw_export_access)


def space_webhook_secret(conn: Connection, space_id: str, *, rotate: bool = False) -> str | None:
    """The space's webhook secret, made now if it has none (or replaced, with `rotate`); None
    when there is no such space. Concurrent first uses agree: only one of them fills it in."""
    unset = spaces.c.webhook_secret.is_(None)
    replace = update(spaces).where(spaces.c.id == space_id, *(() if rotate else (unset,)))
    conn.execute(replace.values(webhook_secret=new_secret()))
    secret: str | None = conn.scalar(select(spaces.c.webhook_secret).where(spaces.c.id == space_id))
    return secret


def _exists(conn: Connection, table: Table, ident: str) -> bool:
    return conn.scalar(select(table.c.id).where(table.c.id == ident)) is not None


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_space(self, name: str) -> str:
        space_id = str(uuid.uuid4())
        with self._engine.begin() as conn:
            conn.execute(insert(spaces).values(id=space_id, name=name, created_at=db_now()))
        return space_id

    def create_user(self, space_id: str, email: str) -> tuple[str, str]:
        """A new user with API and RAW export access and no app; returns (user_id, token)."""
        user_id = str(uuid.uuid4())
        token, token_hash = _new_secret()
        try:
            with self._engine.begin() as conn:
                if not _exists(conn, spaces, space_id):
                    raise NotFound("space", space_id)
                conn.execute(
                    insert(users).values(
                        id=user_id,
                        space_id=space_id,
                        email=email,
                        token_hash=token_hash,
                        api_access=True,
                        raw_export_access=True,
                        created_at=db_now(),
                    )
                )
        except IntegrityError:
            raise Duplicate("user", f"{email} in space {space_id}") from None
        return user_id, token

    def set_user_flags(self, user_id: str, api: bool | None, raw_export: bool | None) -> None:
        """Change the flags that are not None."""
        changes = {"api_access": api, "raw_export_access": raw_export}
        values = {column: flag for column, flag in changes.items() if flag is not None}
        with self._engine.begin() as conn:
            if not _exists(conn, users, user_id):
                raise NotFound("user", user_id)
            if values:
                conn.execute(update(users).where(users.c.id == user_id).values(values))

    def reset_token(self, user_id: str) -> str:
        """A new token for the user; the old one stops working with this commit."""
        token, token_hash = _new_secret()
        with self._engine.begin() as conn:
            result = conn.execute(
                update(users).where(users.c.id == user_id).values(token_hash=token_hash)
            )
        if result.rowcount == 0:
            raise NotFound("user", user_id)
        return token

    def create_app(self, space_id: str, name: str) -> tuple[str, str]:
        """A new app in the space; returns (app_id, ingest_key)."""
        app_id = str(uuid.uuid4())
        key, key_hash = _new_secret()
        with self._engine.begin() as conn:
            if not _exists(conn, spaces, space_id):
                raise NotFound("space", space_id)
            conn.execute(
                insert(apps).values(
                    id=app_id,
                    space_id=space_id,
                    name=name,
                    ingest_key_hash=key_hash,
                    created_at=db_now(),
                )
            )
        return app_id, key

    def grant(self, user_id: str, app_id: str) -> None:
        """Give the user access to an app of the same space; granting twice is harmless."""
        try:
            with self._engine.begin() as conn:
                user_space = conn.scalar(select(users.c.space_id).where(users.c.id == user_id))
                app_space = conn.scalar(select(apps.c.space_id).where(apps.c.id == app_id))
                if user_space is None:
                    raise NotFound("user", user_id)
                if app_space is None:
                    raise NotFound("app", app_id)
                if user_space != app_space:
                    raise AccountError(f"app {app_id} is not in the space of user {user_id}")
                conn.execute(insert(grants).values(user_id=user_id, app_id=app_id))
        except IntegrityError:
            pass  # the grant is already there

    def revoke(self, user_id: str, app_id: str) -> None:
        """Take the app away from the user; revoking a grant that is not there is harmless."""
        with self._engine.begin() as conn:
            if not _exists(conn, users, user_id):
                raise NotFound("user", user_id)
            if not _exists(conn, apps, app_id):
                raise NotFound("app", app_id)
            conn.execute(
                delete(grants).where(grants.c.user_id == user_id, grants.c.app_id == app_id)
            )

    def user_by_token(self, token: str) -> User | None:
        token_hash = _digest(token)
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.token_hash == token_hash)).first()
        if row is None or not hmac.compare_digest(row.token_hash, token_hash):
            return None
        return _user(row)

    def app(self, app_id: str) -> App | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(apps).where(apps.c.id == app_id)).first()
        return None if row is None else App(row.id, row.space_id, row.name)

    def has_grant(self, user_id: str, app_id: str) -> bool:
        """True when the user was granted the app and the app is in the user's space."""
        query = (
            select(grants.c.app_id)
            .join(users, users.c.id == grants.c.user_id)
            .join(apps, apps.c.id == grants.c.app_id)
            .where(
                grants.c.user_id == user_id,
                grants.c.app_id == app_id,
                apps.c.space_id == users.c.space_id,
            )
        )
        with self._engine.connect() as conn:
            return conn.scalar(query) is not None

    # Listings for operators, who lose ids: never tokens or keys, which are kept only hashed.

    def spaces(self) -> list[Space]:
        """Every space, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(spaces).order_by(spaces.c.created_at)).all()
        return [Space(r.id, r.name, r.created_at) for r in rows]

    def users(self, space_id: str) -> list[User]:
        """The users of a space, oldest first."""
        query = select(users).where(users.c.space_id == space_id).order_by(users.c.created_at)
        with self._engine.connect() as conn:
            if not _exists(conn, spaces, space_id):
                raise NotFound("space", space_id)
            rows = conn.execute(query).all()
        return [_user(r) for r in rows]

    def apps(self, space_id: str) -> list[App]:
        """The apps of a space, oldest first."""
        query = select(apps).where(apps.c.space_id == space_id).order_by(apps.c.created_at)
        with self._engine.connect() as conn:
            if not _exists(conn, spaces, space_id):
                raise NotFound("space", space_id)
            rows = conn.execute(query).all()
        return [App(r.id, r.space_id, r.name) for r in rows]

    def user(self, user_id: str) -> tuple[User, list[App]]:
        """A user and the apps the user may export."""
        granted = (
            select(apps)
            .join(grants, grants.c.app_id == apps.c.id)
            .where(grants.c.user_id == user_id)
            .order_by(apps.c.created_at)
        )
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
            if row is None:
                raise NotFound("user", user_id)
            return _user(row), [App(a.id, a.space_id, a.name) for a in conn.execute(granted)]

    def webhook_secret(self, space_id: str, *, rotate: bool = False) -> str:
        """The key of the space's webhook signatures; with `rotate` a new one, which signs every
        webhook sent from this commit on, those of earlier jobs still waiting included."""
        with self._engine.begin() as conn:
            secret = space_webhook_secret(conn, space_id, rotate=rotate)
        if secret is None:
            raise NotFound("space", space_id)
        return secret

    def check_ingest_key(self, app_id: str, key: str) -> bool:
        with self._engine.connect() as conn:
            stored = conn.scalar(select(apps.c.ingest_key_hash).where(apps.c.id == app_id))
        return stored is not None and hmac.compare_digest(stored, _digest(key))
