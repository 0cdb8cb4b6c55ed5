"""users.csv holds exactly the users with exported rows; users_filter."""

from __future__ import annotations

from rawexport.domain.catalog import USERS

from .conftest import START, Export, Load, at, custom, standard


def test_users_are_exactly_those_with_exported_rows(
    load: Load, export: Export, app_id: str
) -> None:
    load([{"devtodev ID": u, "Level": u, "Country": "DE"} for u in (1, 2, 3, 4, 5)], users=True)
    load([{"devtodev ID": 4, "Country": "FR"}], users=True, app="another-app")
    load(
        [
            {"event": "tr", "devtodev ID": 1, "time": at(1), "step": 1},
            {"event": "tr", "devtodev ID": 2, "time": at(-1), "step": 1},  # before the interval
            {"event": "sc", "devtodev ID": 3, "time": at(1), "social": "x"},  # not exported
            {"event": "tr", "devtodev ID": 6, "time": at(2), "step": 1},  # no card
            {"event": "tr", "devtodev ID": 1, "time": at(3), "step": 2},
            {"event": "click", "devtodev ID": 5, "time": at(1), "params": {"p": 1}},
        ]
    )
    load([{"event": "tr", "devtodev ID": 4, "time": at(1), "step": 1}], app="another-app")
    out = export(standard("tr"), custom("click", filters={"p": {"gt": 1}}))
    header, *rows = out.rows("users.csv")
    assert header == list(USERS.column_names)
    assert [r[0] for r in rows] == ["1", "6"]
    first = dict(zip(header, rows[0], strict=True))
    assert (first["Level"], first["Country"], first["Main ID"]) == ("1", "DE", "")
    assert rows[1][1:] == [""] * (len(header) - 1)  # no card: only the ID


def test_users_show_the_card_as_it_is_when_the_job_runs(load: Load, export: Export) -> None:
    load([{"devtodev ID": 1, "Level": 1, "Paying": False}], users=True)
    load([{"event": "sc", "devtodev ID": 1, "time": at(1), "social": "x"}])
    load([{"devtodev ID": 1, "Level": 9}], users=True)
    (user,) = export(standard("sc")).records("users.csv")
    assert (user["Level"], user["Paying"]) == ("9", "false")
    sc = export(standard("sc")).records("sc.csv")
    assert sc[0]["level"] == "1"  # events keep the level they were loaded with


def test_users_filter_keeps_only_events_of_matching_users(load: Load, export: Export) -> None:
    load(
        [
            {"devtodev ID": 1, "Level": 5, "Country": "DE", "Created": START - 9},
            {"devtodev ID": 2, "Level": 2, "Country": "DE"},
            {"devtodev ID": 3, "Level": 7, "Country": "US"},
            {"devtodev ID": 4, "Level": 3, "Country": "FR"},
            {"devtodev ID": 5, "Level": 9},
        ],
        users=True,
    )
    load([{"event": "sc", "devtodev ID": u, "time": at(u), "social": "x"} for u in range(1, 7)])
    out = export(
        standard("sc"), users_filter={"Level": {"gte": 3}, "Country": {"eq": ["DE", "FR"]}}
    )
    assert [r["devtodev ID"] for r in out.records("sc.csv")] == ["1", "4"]
    assert [r["devtodev ID"] for r in out.records("users.csv")] == ["1", "4"]
    present = export(standard("sc"), users_filter={"Country": {}, "Created": {"lt": START}})
    assert [r["devtodev ID"] for r in present.records("sc.csv")] == ["1"]


def test_users_filter_matching_nobody_is_an_empty_result(load: Load, export: Export) -> None:
    load([{"devtodev ID": 1, "Level": 1}], users=True)
    load([{"event": "sc", "devtodev ID": 1, "time": at(1), "social": "x"}])
    out = export(standard("sc"), users_filter={"Level": {"gt": 1}})
    assert out.result.empty
    assert not out.path.exists()
