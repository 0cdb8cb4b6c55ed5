"""The account listings and `user show`/`user set`, in-process on a real SQLite database."""

from __future__ import annotations

from rawexport.cli.main import cli
from tests.cli.conftest import Operator


def test_lost_ids_are_found_again_by_listing(operator: Operator) -> None:
    studio = operator.json("space", "create", "Studio")["space_id"]
    decoy = operator.json("space", "create", "Other studio")["space_id"]
    user = operator.json("user", "create", "--space", studio, "--email", "a@studio.io")["user_id"]
    operator.json("user", "create", "--space", decoy, "--email", "b@other.io")
    game = operator.json("app", "create", "--space", studio, "Game")["app_id"]
    operator.json("app", "create", "--space", decoy, "Other game")

    spaces = operator.json("space", "list")["spaces"]
    assert [(s["space_id"], s["name"]) for s in spaces] == [
        (studio, "Studio"),
        (decoy, "Other studio"),
    ]
    users = operator.json("user", "list", "--space", studio)["users"]
    assert [(u["user_id"], u["email"], u["api_access"]) for u in users] == [
        (user, "a@studio.io", True)
    ]
    apps = operator.json("app", "list", "--space", studio)["apps"]
    assert [(a["app_id"], a["name"]) for a in apps] == [(game, "Game")]
    assert "user_token" not in users[0] and "ingest_key" not in apps[0]

    table = operator.text("user", "list", "--space", studio)
    assert user in table and "a@studio.io" in table and "b@other.io" not in table


def test_user_show_names_the_granted_apps(operator: Operator) -> None:
    studio = operator.json("space", "create", "Studio")["space_id"]
    user = operator.json("user", "create", "--space", studio, "--email", "a@studio.io")["user_id"]
    granted = operator.json("app", "create", "--space", studio, "Granted")["app_id"]
    operator.json("app", "create", "--space", studio, "Not granted")
    operator.json("app", "grant", user, granted)

    shown = operator.json("user", "show", user)
    assert (shown["email"], shown["space_id"]) == ("a@studio.io", studio)
    assert [a["app_id"] for a in shown["apps"]] == [granted]
    assert "Not granted" not in operator.text("user", "show", user)


def test_user_set_says_what_the_flags_now_are(operator: Operator) -> None:
    studio = operator.json("space", "create", "Studio")["space_id"]
    user = operator.json("user", "create", "--space", studio, "--email", "a@studio.io")["user_id"]
    assert operator.json("user", "set", user, "--no-raw-export") == {
        "user_id": user,
        "api_access": True,
        "raw_export_access": False,
    }
    assert "raw_export_access: False" in operator.text("user", "set", user, "--no-api")


def test_an_unknown_space_is_a_one_line_error(operator: Operator) -> None:
    done = operator.runner.invoke(
        cli, ["user", "list", "--space", "nope", "--data-dir", str(operator.data_dir)]
    )
    assert done.exit_code == 1
    assert done.output.strip() == "Error: space not found: nope"


def test_a_spaces_webhook_secret_is_shown_alike_until_rotated(operator: Operator) -> None:
    space = operator.json("space", "create", "studio")["space_id"]
    other = operator.json("space", "create", "decoy")["space_id"]

    shown = operator.json("space", "webhook-secret", space)
    again = operator.json("space", "webhook-secret", space)
    rotated = operator.json("space", "webhook-secret", space, "--rotate")
    after = operator.text("space", "webhook-secret", space)

    secret = shown["webhook_secret"]
    assert shown == again == {"space_id": space, "webhook_secret": secret}
    assert len(secret) == 64 and int(secret, 16) >= 0
    assert rotated["webhook_secret"] != secret
    assert after == f"space_id: {space}\nwebhook_secret: {rotated['webhook_secret']}\n"
    assert operator.json("space", "webhook-secret", other)["webhook_secret"] not in (
        secret,
        rotated["webhook_secret"],
    )
    done = operator.runner.invoke(
        cli, ["space", "webhook-secret", "nope", "--data-dir", str(operator.data_dir)]
    )
    assert (done.exit_code, done.output.strip()) == (1, "Error: space not found: nope")
