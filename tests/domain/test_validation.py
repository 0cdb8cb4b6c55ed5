"""Request validation without a server: the JobSpec a body becomes, and its error codes."""

from __future__ import annotations

from typing import Any

import pytest

from rawexport.domain.catalog import BASIC_EVENTS
from rawexport.domain.errors import ApiError, Code
from rawexport.domain.jobspec import Condition, Filter, JobSpec
from rawexport.domain.validation import build_spec, check_fields

NOW = 1_700_000_000
KNOWN = {"levelComplete", "shopOpened"}
MAX_EVENTS = 100


def spec(asked: list[set[str]] | None = None, **body: Any) -> JobSpec:
    """The JobSpec of `body`; each call of `custom_events` is appended to `asked`."""
    full = {"app_id": "a", "start_date": NOW - 3600, "end_date": NOW, **body}
    check_fields(full, max_events=MAX_EVENTS)

    def custom_events(names: set[str]) -> set[str]:
        if asked is not None:
            asked.append(names)
        return names & KNOWN

    return build_spec(full, now=NOW, retention_days=90, custom_events=custom_events)


def code_of(**body: Any) -> int:
    with pytest.raises(ApiError) as caught:
        spec(**body)
    return caught.value.code


def test_no_events_means_basic_and_custom() -> None:
    events: list[str] | None
    for events in ([], None):
        s = spec(**({"events": events} if events is not None else {}))
        assert [e.event for e in s.events] == list(BASIC_EVENTS)
        assert s.all_custom


def test_custom_names_are_looked_up_once_and_only_when_requested() -> None:
    asked: list[set[str]] = []
    spec(asked, events=["gs", "@custom_events"])
    assert asked == []
    spec(asked, events=["levelComplete", {"name": "shopOpened", "alias": "s"}, "tr"])
    assert asked == [{"levelComplete", "shopOpened"}]


def test_groups_and_names() -> None:
    s = spec(events=["@custom_events", "sbs_payments", "levelComplete"])
    assert s.all_custom
    assert [(e.event, e.custom, e.file_stem) for e in s.events] == [
        ("sbs_payments", False, "sbs_payments"),
        ("levelComplete", True, "levelComplete"),
    ]


def test_filters_and_alias_are_kept() -> None:
    s = spec(
        events=[
            {
                "name": "levelComplete",
                "alias": "hard",
                "filters": {"difficulty": {"gt": 5, "neq": [8, 9]}, "mode": {}},
            }
        ]
    )
    (e,) = s.events
    assert e.alias == "hard" and e.file_stem == "hard"
    assert e.filters == (
        Filter("difficulty", (Condition("gt", 5), Condition("neq", [8, 9]))),
        Filter("mode", ()),
    )


def test_spec_round_trips_through_json() -> None:
    s = spec(
        events=[{"name": "levelComplete", "filters": {"d": {"eq": ["a", "b"]}}}],
        format="parquet",
        users_filter={"Country": {"eq": "DE"}},
    )
    assert JobSpec.from_json(s.to_json()) == s


def test_repeated_standard_event_is_one_file() -> None:
    assert [e.event for e in spec(events=["tr", "tr"]).events] == ["tr"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"format": "xml"}, 7),
        ({"start_date": NOW - 91 * 86400}, 10),
        ({"start_date": NOW, "end_date": NOW}, 10),
        ({"events": ["unknownEvent"]}, 8),
        ({"events": ["levelComplete", {"name": "levelComplete"}]}, 9),
        ({"events": [{"name": "tr", "filters": {"step": {"eq": 1}}}]}, 5),
        ({"events": [{"name": "levelComplete", "filters": {"d": {"gt": [1, 2]}}}]}, 5),
        ({"events": [{"name": "levelComplete", "filters": {"d": {"like": "x"}}}]}, 5),
        ({"users_filter": {"NoSuchColumn": {}}}, 5),
        ({"users_filter": []}, 5),
        ({"events": [{"name": "levelComplete", "filters": {f"p{i}": {} for i in range(101)}}]}, 5),
        ({"events": [{"name": "levelComplete", "filters": {"d": {"eq": list(range(10_001))}}}]}, 5),
    ],
)
def test_error_codes(body: dict[str, Any], code: int) -> None:
    assert code_of(**body) == code


def test_format_is_checked_before_the_interval() -> None:
    assert code_of(format="xml", start_date=0) == 7


def message_of(**body: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        spec(**body)
    return caught.value.code, caught.value.message


def test_more_events_than_the_limit_is_code_5_saying_how_many() -> None:
    events = [{"name": "levelComplete", "alias": f"a{k}"} for k in range(MAX_EVENTS + 1)]
    assert message_of(events=events) == (
        Code.WRONG_TYPE,
        f"Field events has type {MAX_EVENTS + 1} entries but at most {MAX_EVENTS} expected",
    )
    assert len(spec(events=events[:MAX_EVENTS]).events) == MAX_EVENTS


@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_a_date_in_milliseconds_is_code_5_saying_so(field: str) -> None:
    in_ms = (NOW - 60) * 1000
    assert message_of(**{field: in_ms}) == (
        Code.WRONG_TYPE,
        f"Field {field} has type UNIX milliseconds ({in_ms}) but UNIX seconds expected",
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 10**400, 1e300])
def test_a_date_that_is_no_number_of_seconds_is_code_5(value: float) -> None:
    code, msg = message_of(start_date=value)
    assert code == Code.WRONG_TYPE and msg.endswith("but UNIX seconds expected")


@pytest.mark.parametrize("value", [10**400, float("inf"), [1, -(10**400)]])
def test_a_filter_number_beyond_float64_is_refused(value: object) -> None:
    events = [{"name": "levelComplete", "filters": {"difficulty": {"eq": value}}}]
    code, msg = message_of(events=events)
    assert code == Code.WRONG_TYPE and "a number beyond Float64" in msg
