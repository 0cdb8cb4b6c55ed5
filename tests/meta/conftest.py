"""Fixtures of the metadata tests: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from rawexport.meta.accounts import Accounts, User
from rawexport.meta.db import connect
from rawexport.meta.jobs import JobQueue

__all__ = ["accounts", "engine", "member", "queue"]


@pytest.fixture
def engine(metadata_url: str) -> Iterator[Engine]:
    engine = connect(metadata_url)
    yield engine
    engine.dispose()


@pytest.fixture
def accounts(engine: Engine) -> Accounts:
    return Accounts(engine)


@pytest.fixture
def queue(engine: Engine) -> JobQueue:
    return JobQueue(engine)


@pytest.fixture
def member(accounts: Accounts) -> tuple[User, str]:
    """A fresh user of a fresh space, granted one app: (user, app_id)."""
    space_id = accounts.create_space("space")
    _, token = accounts.create_user(space_id, "member@example.com")
    app_id, _ = accounts.create_app(space_id, "app")
    user = accounts.user_by_token(token)
    assert user is not None
    accounts.grant(user.id, app_id)
    return user, app_id
