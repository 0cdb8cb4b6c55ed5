"""No input answers 500: every answer is a 4xx (or a success) in the envelope with a published
code, and whatever `setjob` accepts exports without failing.

The named cases are the reproductions that once answered 500 or failed in the worker; then
hypothesis throws arbitrary JSON at the three endpoints, and schemathesis works from the OpenAPI
document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from rawexport.domain.errors import MESSAGES
from rawexport.domain.validation import OPERATORS
from rawexport.http.app import create_app
from rawexport.runtime import Runtime
from rawexport.settings import Settings
from tests.api.conftest import Service
from tests.api.jobs import API, NOW, rows, wait_done
from tests.conftest import Account

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples every run, kept nowhere: a failure reproduces as is
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SURROGATE = '"\\ud800"'
"""A lone surrogate as JSON writes it: valid syntax, but no Unicode text."""


def assert_enveloped(answer: httpx.Response) -> None:
    """A success, or a 4xx whose envelope carries a published code with that code's status."""
    assert answer.status_code < 500, answer.text
    body = answer.json()
    assert body["status_code"] == answer.status_code
    if answer.status_code >= 400:
        (error,) = body["errors"]
        assert MESSAGES[error["code"]].status == answer.status_code, body


@pytest.fixture(scope="module")
def account(shared_service: Service) -> Account:
    acc = shared_service.account()
    levels = [
        {"event": "levelComplete", "devtodev ID": 9, "time": (NOW - 60) * 1000, "params": {"d": 7}}
    ]
    shared_service.load(acc.app_id, rows() + levels)
    return acc


def setjob_raw(service: Service, acc: Account, raw: str | bytes) -> httpx.Response:
    return service.client.post(
        f"{API}/setjob", params={"user_token": acc.token}, content=raw, timeout=60
    )


def template(acc: Account, events: str = '["tr"]', start: str = str(NOW - 3600)) -> str:
    return (
        f'{{"app_id": "{acc.app_id}", "start_date": {start}, "end_date": {NOW},'
        f' "events": {events}}}'
    )


def error_code(answer: httpx.Response) -> int:
    assert_enveloped(answer)
    code: int = answer.json()["errors"][0]["code"]
    return code


@pytest.mark.parametrize(
    "where",
    ["[" * 1000 + "]" * 1000, "{" + '"a":{' * 999 + "}" * 1000],
    ids=["arrays", "objects"],
)
def test_json_nested_a_thousand_levels_anywhere_is_code_3(
    shared_service: Service, account: Account, where: str
) -> None:
    answer = setjob_raw(shared_service, account, template(account, events=f"[{where}]"))
    assert error_code(answer) == 3
    assert "nested deeper than" in answer.json()["errors"][0]["msg"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309", "1" + "0" * 400])
def test_a_number_that_is_not_one_is_code_3(
    shared_service: Service, account: Account, number: str
) -> None:
    assert error_code(setjob_raw(shared_service, account, template(account, start=number))) == 3
    filters = f'[{{"name": "levelComplete", "filters": {{"d": {{"gt": {number}}}}}}}]'
    assert error_code(setjob_raw(shared_service, account, template(account, events=filters))) == 3


@pytest.mark.parametrize(
    "events",
    [f"[{SURROGATE}]", f'[{{"name": "levelComplete", "alias": {SURROGATE}}}]'],
    ids=["name", "alias"],
)
def test_a_lone_surrogate_in_an_event_is_code_3(
    shared_service: Service, account: Account, events: str
) -> None:
    answer = setjob_raw(shared_service, account, template(account, events=events))
    assert error_code(answer) == 3
    assert "surrogate" in answer.json()["errors"][0]["msg"]


def test_a_lone_surrogate_in_app_id_token_or_job_id_is_code_3_or_not_found(
    shared_service: Service, account: Account
) -> None:
    body = f'{{"app_id": {SURROGATE}, "start_date": {NOW - 60}, "end_date": {NOW}}}'
    assert error_code(setjob_raw(shared_service, account, body)) == 3
    as_token = f'{{"user_token": {SURROGATE}, "job_id": "x"}}'
    assert error_code(shared_service.client.post(f"{API}/getprogress", content=as_token)) == 3
    as_job = f'{{"user_token": "{account.token}", "job_id": {SURROGATE}}}'
    assert error_code(shared_service.client.post(f"{API}/getprogress", content=as_job)) == 3
    query = f"user_token={account.token}&job_id=%ED%A0%80"  # a surrogate's bytes: no UTF-8
    for path in ("getprogress", "download/"):
        assert error_code(shared_service.client.get(f"{API}/{path}?{query}")) == 22


def test_a_nul_in_an_id_is_not_found(shared_service: Service, account: Account) -> None:
    body = {"user_token": account.token, "app_id": "a\x00", "start_date": NOW - 60, "end_date": NOW}
    assert error_code(shared_service.client.post(f"{API}/setjob", json=body)) == 6
    query = {"user_token": account.token, "job_id": "j\x00"}
    assert error_code(shared_service.client.get(f"{API}/getprogress", params=query)) == 22


def test_a_hundred_and_one_events_is_code_5_before_any_work(
    shared_service: Service, account: Account
) -> None:
    entries = json.dumps([{"name": "levelComplete", "alias": f"a{k}"} for k in range(101)])
    answer = setjob_raw(shared_service, account, template(account, events=entries))
    assert answer.json()["errors"] == [
        {"code": 5, "msg": "Field events has type 101 entries but at most 100 expected"}
    ]


def test_a_start_date_in_milliseconds_is_refused_and_not_counted(
    start_service: Callable[..., Service],
) -> None:
    service = start_service(jobs_per_day_user=1, min_job_interval_s=0)
    acc = service.account()
    answer = setjob_raw(service, acc, template(acc, start=str((NOW - 3600) * 1000)))
    assert error_code(answer) == 5
    assert "milliseconds" in answer.json()["errors"][0]["msg"]
    assert setjob_raw(service, acc, template(acc)).status_code == 200  # the quota is intact


# -- arbitrary JSON ----------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
"""Any code points, lone surrogates included (JSON escapes them)."""
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | _TEXT
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_OPERANDS = st.integers() | st.floats() | st.booleans() | _TEXT | st.lists(st.integers() | _TEXT)
_FILTER = st.dictionaries(
    st.sampled_from(["d", "level"]) | _TEXT,
    st.dictionaries(st.sampled_from(sorted(OPERATORS)) | _TEXT, _OPERANDS | JSON, max_size=2),
    max_size=2,
)
_NAMES = st.sampled_from(["tr", "levelComplete", "@basic_events", "@custom_events"])
_ENTRY = _NAMES | st.fixed_dictionaries(
    {"name": _NAMES}, optional={"alias": _TEXT | JSON, "filters": _FILTER | JSON}
)


def _setjob_bodies(acc: Account) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies near a valid request: right but for at most one field, which holds anything."""
    right = {
        "app_id": st.just(acc.app_id),
        "start_date": st.sampled_from([NOW - 7200, NOW - 3600]),
        "end_date": st.sampled_from([NOW - 60, NOW]),
        "events": st.lists(_ENTRY, max_size=3),
        "format": st.sampled_from(["csv", "jsonl", "parquet"]),
        "users_filter": st.just({"Level": {"gt": 1}}) | _FILTER,
        "user_token": st.just(acc.token),
    }
    spoilt = st.sampled_from([None, None, None, *right])  # most bodies keep every field right
    return st.tuples(st.fixed_dictionaries(right), spoilt, JSON).map(
        lambda drawn: drawn[0] if drawn[1] is None else {**drawn[0], drawn[1]: drawn[2]}
    )


def test_setjob_answers_arbitrary_bodies_and_exports_what_it_accepts(
    shared_service: Service, account: Account
) -> None:
    accepted: list[str] = []

    @settings(FUZZ, max_examples=150)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        body = data.draw(_setjob_bodies(account) | JSON)
        answer = setjob_raw(shared_service, account, json.dumps(body))
        assert_enveloped(answer)
        if answer.status_code == 200:
            accepted.append(answer.json()["data"])

    check()
    assert len(accepted) >= 5, "too few accepted jobs to tell whether they export"
    for job in accepted:  # what setjob accepts never fails in the worker
        done = wait_done(shared_service, account.token, job)
        assert done.status_code in (200, 201), done.text


_QUERY_PART = st.binary(max_size=12).map(quote_from_bytes)
"""Any bytes, percent-encoded: what a query string can carry, invalid UTF-8 included."""


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["user_token", "job_id"]).map(str) | _QUERY_PART, _QUERY_PART
    )
)
def test_getprogress_and_download_answer_arbitrary_queries(
    shared_service: Service, query: dict[str, str]
) -> None:
    raw = "&".join(f"{key}={value}" for key, value in query.items())
    for path in ("getprogress", "download/"):
        assert_enveloped(shared_service.client.get(f"{API}/{path}?{raw}"))


@FUZZ
@given(body=JSON)
def test_getprogress_answers_arbitrary_bodies(shared_service: Service, body: object) -> None:
    assert_enveloped(shared_service.client.post(f"{API}/getprogress", content=json.dumps(body)))


# -- schemathesis --------------------------------------------------------------------------------


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI document: made from its routes, without opening anything."""
    return create_app(Runtime(Settings.load({}, env={})), admin_key="").openapi()


# Uploads are JSON lines: the bytes a string of the schema stands for.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
OPERATIONS = schemathesis.openapi.from_dict(_openapi()).as_strategy()


@settings(FUZZ, max_examples=100, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_openapi_operations_never_answer_500(shared_service: Service, data: st.DataObject) -> None:
    case = data.draw(OPERATIONS)
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    answer = shared_service.client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers={k: str(v) for k, v in (kwargs.get("headers") or {}).items()},
        content=_body_of(kwargs),
    )
    assert answer.status_code < 500, answer.text
    if kwargs["method"] != "HEAD" and answer.headers["content-type"] == "application/json":
        assert_enveloped(answer)


def _body_of(kwargs: dict[str, Any]) -> bytes | None:
    if "json" in kwargs:
        return json.dumps(kwargs["json"]).encode()
    data = kwargs.get("data")
    if isinstance(data, str):
        return data.encode()
    return data if isinstance(data, bytes) else None
