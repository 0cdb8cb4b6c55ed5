"""Spaces, users, apps, grants and secrets, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, insert, select

from rawexport.meta.accounts import AccountError, Accounts, Duplicate, NotFound
from rawexport.meta.schema import apps, grants, users


def test_new_user_has_access_flags_and_finds_by_token(accounts: Accounts) -> None:
    space_id = accounts.create_space("acme")
    user_id, token = accounts.create_user(space_id, "ann@example.com")

    user = accounts.user_by_token(token)

    assert user is not None
    assert (user.id, user.space_id, user.email) == (user_id, space_id, "ann@example.com")
    assert user.api_access and user.raw_export_access
    assert accounts.user_by_token(token + "x") is None
    assert accounts.user_by_token("") is None


def test_secrets_are_stored_only_as_hashes(accounts: Accounts, engine: Engine) -> None:
    space_id = accounts.create_space("acme")
    _, token = accounts.create_user(space_id, "ann@example.com")
    _, ingest_key = accounts.create_app(space_id, "game")

    with engine.connect() as conn:
        dump = [
            str(value)
            for table in (users, apps)
            for row in conn.execute(select(table))
            for value in row
        ]

    assert len(token) >= 43 and len(ingest_key) >= 43
    assert not any(token in value or ingest_key in value for value in dump)


def test_token_reset_invalidates_the_old_token(accounts: Accounts) -> None:
    space_id = accounts.create_space("acme")
    user_id, old = accounts.create_user(space_id, "ann@example.com")

    new = accounts.reset_token(user_id)

    assert new != old
    assert accounts.user_by_token(old) is None
    user = accounts.user_by_token(new)
    assert user is not None and user.id == user_id


def test_flags_change_only_when_given(accounts: Accounts) -> None:
    space_id = accounts.create_space("acme")
    user_id, token = accounts.create_user(space_id, "ann@example.com")

    accounts.set_user_flags(user_id, api=False, raw_export=None)
    after_api = accounts.user_by_token(token)
    accounts.set_user_flags(user_id, api=None, raw_export=False)
    after_raw = accounts.user_by_token(token)
    accounts.set_user_flags(user_id, api=True, raw_export=True)
    after_both = accounts.user_by_token(token)

    assert after_api is not None and (after_api.api_access, after_api.raw_export_access) == (
        False,
        True,
    )
    assert after_raw is not None and not after_raw.api_access and not after_raw.raw_export_access
    assert after_both is not None and after_both.api_access and after_both.raw_export_access


def test_grants_and_revokes(accounts: Accounts) -> None:
    space_id = accounts.create_space("acme")
    user_id, _ = accounts.create_user(space_id, "ann@example.com")
    app_id, _ = accounts.create_app(space_id, "game")

    assert not accounts.has_grant(user_id, app_id)
    accounts.grant(user_id, app_id)
    accounts.grant(user_id, app_id)
    assert accounts.has_grant(user_id, app_id)
    accounts.revoke(user_id, app_id)
    assert not accounts.has_grant(user_id, app_id)
    accounts.revoke(user_id, app_id)


def test_apps_of_another_space_are_never_granted(accounts: Accounts, engine: Engine) -> None:
    home = accounts.create_space("acme")
    user_id, _ = accounts.create_user(home, "ann@example.com")
    foreign_app, _ = accounts.create_app(accounts.create_space("other"), "their game")

    with pytest.raises(AccountError, match="not in the space"):
        accounts.grant(user_id, foreign_app)
    # A grant row that crosses spaces (written by hand, or left by older data) does not count.
    with engine.begin() as conn:
        conn.execute(insert(grants).values(user_id=user_id, app_id=foreign_app))
    assert not accounts.has_grant(user_id, foreign_app)


def test_apps_have_uuid_ids_and_check_their_ingest_key(accounts: Accounts) -> None:
    space_id = accounts.create_space("acme")
    app_id, key = accounts.create_app(space_id, "game")

    app = accounts.app(app_id)

    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", app_id)
    assert app is not None and (app.space_id, app.name) == (space_id, "game")
    assert accounts.app("af0606ed-bbdc-065a-952c-0d92561f107c") is None
    assert accounts.check_ingest_key(app_id, key)
    assert not accounts.check_ingest_key(app_id, key[:-1])
    assert not accounts.check_ingest_key("no-such-app", key)


def test_unknown_ids_raise_not_found(accounts: Accounts) -> None:
    space_id = accounts.create_space("acme")
    user_id, _ = accounts.create_user(space_id, "ann@example.com")
    app_id, _ = accounts.create_app(space_id, "game")
    calls: dict[str, list[Callable[[], object]]] = {
        "space": [
            lambda: accounts.create_user("nope", "x@example.com"),
            lambda: accounts.create_app("nope", "x"),
        ],
        "user": [
            lambda: accounts.reset_token("nope"),
            lambda: accounts.set_user_flags("nope", api=True, raw_export=None),
            lambda: accounts.grant("nope", app_id),
            lambda: accounts.revoke("nope", app_id),
        ],
        "app": [lambda: accounts.grant(user_id, "nope"), lambda: accounts.revoke(user_id, "nope")],
    }
    for kind, failing in calls.items():
        for call in failing:
            with pytest.raises(NotFound, match=f"^{kind} not found: nope$"):
                call()


def test_an_email_is_unique_within_its_space(accounts: Accounts) -> None:
    first, second = accounts.create_space("acme"), accounts.create_space("other")
    accounts.create_user(first, "ann@example.com")
    accounts.create_user(second, "ann@example.com")

    with pytest.raises(Duplicate, match=re.escape("ann@example.com")):
        accounts.create_user(first, "ann@example.com")
