"""setjob through the ASGI app: every validation and account error, in the order of docs/api.md."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.api.conftest import Service
from tests.conftest import Account

NOW = int(time.time())


@pytest.fixture(scope="module")
def account(shared_service: Service) -> Account:
    acc = shared_service.account()
    shared_service.load(
        acc.app_id,
        [
            {
                "event": "levelComplete",
                "devtodev ID": 1,
                "time": (NOW - 60) * 1000,
                "params": {"difficulty": 7},
            },
        ],
    )
    return acc


def setjob(
    server: Service,
    body: Any,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    params = {"user_token": token} if token is not None else {}
    content = body if isinstance(body, bytes | str) else json.dumps(body)
    return server.client.post(
        "/api/v1/rawexport/setjob", params=params, content=content, headers=headers or {}
    )


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    answer = response.json()
    assert answer["status_code"] == response.status_code
    (error,) = answer["errors"]
    return response.status_code, error["code"], error["msg"]


def body(acc: Account, **extra: Any) -> dict[str, Any]:
    return {
        "user_token": acc.token,
        "app_id": acc.app_id,
        "start_date": NOW - 3600,
        "end_date": NOW,
        **extra,
    }


def test_empty_body_is_code_2(shared_service: Service, account: Account) -> None:
    assert error_of(setjob(shared_service, b"", token=account.token)) == (
        400,
        2,
        "Request body is empty",
    )


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
def test_malformed_or_non_object_body_is_code_3(
    shared_service: Service, account: Account, raw: bytes
) -> None:
    status, code, msg = error_of(setjob(shared_service, raw, token=account.token))
    assert (status, code) == (400, 3) and msg.startswith("Malformed json")


def test_body_over_one_mebibyte_is_code_3_naming_the_limit(
    shared_service: Service, account: Account
) -> None:
    big = body(account, padding="x" * (1 << 20))
    status, code, msg = error_of(setjob(shared_service, big))
    assert (status, code) == (400, 3)
    assert "1048576 bytes" in msg


def test_missing_token_is_code_12(shared_service: Service, account: Account) -> None:
    no_token = {k: v for k, v in body(account).items() if k != "user_token"}
    assert error_of(setjob(shared_service, no_token)) == (
        401,
        12,
        "Authorization error. User_token is not set.",
    )


def test_wrong_token_is_code_11_with_the_token(shared_service: Service, account: Account) -> None:
    assert error_of(setjob(shared_service, body(account, user_token="nope"))) == (
        401,
        11,
        "Authorization error. Wrong user token nope",
    )


def test_different_tokens_in_query_and_body_are_code_11(
    shared_service: Service, account: Account
) -> None:
    status, code, _ = error_of(setjob(shared_service, body(account), token="other"))
    assert (status, code) == (401, 11)


def test_api_and_raw_export_flags_are_codes_15_and_16(shared_service: Service) -> None:
    acc = shared_service.account()
    shared_service.cli("user", "set", acc.user_id, "--no-api")
    assert error_of(setjob(shared_service, body(acc)))[:2] == (403, 15)
    shared_service.cli("user", "set", acc.user_id, "--api", "--no-raw-export")
    assert error_of(setjob(shared_service, body(acc))) == (
        403,
        16,
        "Access denied. You have no access to RAW data export API.",
    )


@pytest.mark.parametrize("field", ["app_id", "start_date", "end_date"])
def test_missing_field_is_code_4(shared_service: Service, account: Account, field: str) -> None:
    incomplete = {k: v for k, v in body(account).items() if k != field}
    assert error_of(setjob(shared_service, incomplete)) == (400, 4, f"Field not found: {field}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_date": "1464709200"}, "Field start_date has type string but number expected"),
        ({"end_date": True}, "Field end_date has type boolean but number expected"),
        ({"app_id": 42}, "Field app_id has type integer but string expected"),
        ({"events": "tr"}, "Field events has type string but array expected"),
        ({"events": [{"name": 5}]}, "Field events[0].name has type integer but string expected"),
        (
            {"events": [{"name": "x", "filters": []}]},
            "Field events[0].filters has type array but object expected",
        ),
    ],
)
def test_wrong_type_is_code_5(
    shared_service: Service, account: Account, change: dict[str, Any], message: str
) -> None:
    assert error_of(setjob(shared_service, body(account, **change))) == (400, 5, message)


def test_unknown_filter_operator_is_code_5_naming_it(
    shared_service: Service, account: Account
) -> None:
    events = [{"name": "levelComplete", "filters": {"difficulty": {"between": [1, 2]}}}]
    status, code, msg = error_of(setjob(shared_service, body(account, events=events)))
    assert (status, code) == (400, 5)
    assert "between" in msg


def test_unknown_app_is_code_6(shared_service: Service, account: Account) -> None:
    assert error_of(setjob(shared_service, body(account, app_id="no-such-app"))) == (
        400,
        6,
        "Invalid app id no-such-app",
    )


def test_app_without_grant_or_of_another_space_is_code_13(
    shared_service: Service, account: Account
) -> None:
    other = shared_service.account()
    expected = (403, 13, f"Access denied. You have no access to the app {other.app_id}")
    assert error_of(setjob(shared_service, body(account, app_id=other.app_id))) == expected
    own = shared_service.cli("app", "create", "--space", account.space_id, "second")["app_id"]
    assert error_of(setjob(shared_service, body(account, app_id=own)))[:2] == (403, 13)


def test_unknown_format_is_code_7(shared_service: Service, account: Account) -> None:
    assert error_of(setjob(shared_service, body(account, format="xml"))) == (
        400,
        7,
        "Unknown format: xml",
    )


@pytest.mark.parametrize(
    "window", [(NOW - 91 * 86400, NOW), (NOW - 100, NOW - 100), (NOW, NOW - 100)]
)
def test_interval_is_code_10(
    shared_service: Service, account: Account, window: tuple[int, int]
) -> None:
    start, end = window
    status, code, msg = error_of(
        setjob(shared_service, body(account, start_date=start, end_date=end))
    )
    assert (status, code) == (400, 10)
    assert "90 days" in msg


def test_unknown_event_is_code_8(shared_service: Service, account: Account) -> None:
    assert error_of(setjob(shared_service, body(account, events=["tr", "neverSeen"]))) == (
        400,
        8,
        "Unknown event: neverSeen",
    )


@pytest.mark.parametrize(
    "events",
    [
        ["levelComplete", "levelComplete"],
        [{"name": "levelComplete", "alias": "a"}, {"name": "levelComplete", "alias": "a"}],
        [{"name": "levelComplete", "alias": "tr"}, "tr"],
    ],
)
def test_duplicated_alias_is_code_9(
    shared_service: Service, account: Account, events: list[Any]
) -> None:
    assert error_of(setjob(shared_service, body(account, events=events)))[:2] == (400, 9)


def test_check_order_token_before_fields_before_app(
    shared_service: Service, account: Account
) -> None:
    assert error_of(setjob(shared_service, {"app_id": 5}))[1] == 12
    assert error_of(setjob(shared_service, {"user_token": account.token, "app_id": "nope"}))[1] == 4
    wrong = body(account, app_id="nope", format="xml")
    assert error_of(setjob(shared_service, wrong))[1] == 6


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/json"},
    ],
)
def test_json_body_is_read_whatever_the_content_type(
    shared_service: Service, account: Account, headers: dict[str, str]
) -> None:
    response = setjob(shared_service, body(account, events=["tr"]), headers=headers)
    assert response.status_code == 200
    answer = response.json()
    assert answer["status_code"] == 200
    assert isinstance(answer["data"], str)
