"""The bytes a Range and If-Range ask for, edge cases the HTTP tests do not reach."""

from __future__ import annotations

import pytest

from rawexport.http.byte_ranges import ByteRange, RangeNotSatisfiable, requested_range

SIZE = 1000
VALIDATORS = ('"v1"', "Wed, 02 Dec 2026 10:00:00 GMT")
WHOLE = ByteRange(0, SIZE - 1)


def asked(range_header: str | None, if_range: str | None = None) -> ByteRange:
    return requested_range(range_header, if_range, SIZE, VALIDATORS)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=999-", ByteRange(999, 999)),
        ("BYTES = 10 - 20", ByteRange(10, 20)),
        ("bytes=-1", ByteRange(999, 999)),
        ("bytes=-5000", WHOLE),  # a suffix longer than the report is all of it
        ("bytes=500-99999", ByteRange(500, 999)),
    ],
)
def test_a_single_range_is_clipped_to_the_report(header: str, expected: ByteRange) -> None:
    assert asked(header) == expected


@pytest.mark.parametrize(
    "header", [None, "bytes=20-10", "bytes=-", "items=0-10", "bytes=0-1,3-4", "bytes=x-"]
)
def test_no_range_an_invalid_one_or_several_ask_for_the_whole_report(header: str | None) -> None:
    assert asked(header) == WHOLE


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_beyond_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        asked(header)


def test_if_range_keeps_the_range_only_for_this_version() -> None:
    assert asked("bytes=10-", '"v1"') == ByteRange(10, 999)
    assert asked("bytes=10-", VALIDATORS[1]) == ByteRange(10, 999)
    assert asked("bytes=10-", '"v0"') == WHOLE
    assert asked("bytes=10-", 'W/"v1"') == WHOLE  # a weak validator never matches (RFC 9110)
