"""Fixtures of the metadata tests: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from rawexport.meta.accounts import Accounts, User

__all__ = ["member"]


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
