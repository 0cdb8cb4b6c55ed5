from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from rawexport.client.timeparse import parse_when, to_unix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1464709200", 1464709200),
        ("0", 0),
        ("2016-05-31", 1464652800),  # 00:00 UTC
        ("2016-05-31T16:00:00Z", 1464710400),
        ("2016-05-31T19:00:00+03:00", 1464710400),
        ("2016-05-31T12:00:00-04:00", 1464710400),
        (" 2016-05-31 ", 1464652800),
    ],
)
def test_parse_when_accepts_seconds_dates_and_offset_datetimes(text: str, expected: int) -> None:
    assert parse_when(text) == expected


def test_now_and_times_before_now_use_this_machines_clock() -> None:
    before = int(time.time())
    assert before <= parse_when("now") <= int(time.time())
    assert before - 7 * 86400 <= parse_when("7d") <= int(time.time()) - 7 * 86400
    assert before - 36 * 3600 <= parse_when(" 36h ") <= int(time.time()) - 36 * 3600


def test_a_datetime_without_offset_is_refused_with_advice() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_when("2016-05-31T16:00:00")


@pytest.mark.parametrize("text", ["yesterday", "2016-13-01", "-5", "1.5", "", "7 d", "3w"])
def test_garbage_is_refused_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="ISO date"):
        parse_when(text)


def test_to_unix_takes_python_values() -> None:
    moment = datetime(2016, 5, 31, 19, 0, tzinfo=timezone(timedelta(hours=3)))
    assert to_unix(moment) == 1464710400
    assert to_unix(date(2016, 5, 31)) == 1464652800
    assert to_unix(datetime(2016, 5, 31, tzinfo=UTC)) == 1464652800
    assert to_unix(1464710400) == 1464710400
    with pytest.raises(ValueError):
        to_unix(datetime(2016, 5, 31))
    with pytest.raises(TypeError):
        to_unix(True)
