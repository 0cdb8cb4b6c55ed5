"""Custom-event filters against hand-computed answers."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Export, Load, at, custom

# id -> parameters of one `shot` event; `id` only tells the rows apart.
SHOTS: dict[int, dict[str, Any]] = {
    1: {"v": 5, "s": "abc", "b": True},
    2: {"v": 10, "s": "b"},
    3: {"v": 8, "s": ""},
    4: {"v": "x", "s": "c"},
    5: {},
    6: {"v": 0.1, "b": False},
    7: {"v": 12},
}

CASES: list[tuple[dict[str, dict[str, Any]], set[int]]] = [
    ({"v": {"gt": 5}}, {2, 3, 7}),
    ({"v": {"lte": 10, "gt": 5, "neq": 8}}, {2}),
    ({"v": {"gte": 5, "lt": 10}}, {1, 3}),
    ({"v": {"eq": 0.1}}, {6}),
    ({"v": {"neq": 5}}, {2, 3, 6, 7}),  # "x" is no number, 5 has no v
    ({"v": {"eq": [5, 12]}}, {1, 7}),
    ({"v": {"neq": [5, 12]}}, {2, 3, 6}),
    ({"v": {"eq": [5, "x"]}}, {1, 4}),
    ({"v": {"eq": "x"}}, {4}),
    ({"v": {"eq": "5"}}, {1}),  # a string operand compares the text
    ({"v": {}}, {1, 2, 3, 4, 6, 7}),
    ({"s": {}}, {1, 2, 4}),  # present and not empty
    ({"s": {"eq": ["abc", "c"]}}, {1, 4}),
    ({"s": {"neq": ["abc"]}}, {2, 3, 4}),
    ({"s": {"neq": "zzz"}}, {1, 2, 3, 4}),  # no `s`, no match, even for neq
    ({"s": {"gt": "b"}}, {4}),  # as text: "abc" < "b" < "c"
    ({"b": {"eq": True}}, {1}),
    ({"b": {"neq": True}}, {6}),
    ({"v": {"gt": 5}, "s": {}}, {2}),  # parameters are ANDed
    ({"v": {"eq": []}}, set()),
    ({"nope": {"neq": 1}}, set()),
]


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_filter_selects_exactly(
    load: Load, export: Export, filters: dict[str, dict[str, Any]], expected: set[int]
) -> None:
    load(
        [
            {"event": "shot", "devtodev ID": 1, "time": at(i), "params": {"id": i, **p}}
            for i, p in SHOTS.items()
        ]
    )
    out = export(custom("shot", alias="picked", filters=filters), custom("shot"))
    assert len(out.records("shot.csv")) == len(SHOTS)
    picked = {int(r["id"]) for r in out.records("picked.csv")}
    assert picked == expected
