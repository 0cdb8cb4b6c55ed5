"""Columns of every file: names and order, dates, currencies, custom parameters."""

from __future__ import annotations

from rawexport.domain.catalog import BASIC_EVENTS, SBS_PAYMENTS, STANDARD_EVENTS

from .conftest import Export, Load, at, custom, standard


def test_every_standard_file_has_the_published_columns_in_order(load: Load, export: Export) -> None:
    load(
        [
            {"event": e, "devtodev ID": 7, "time": at(1)}
            for e in BASIC_EVENTS
            if e not in ("rp", "sbs")
        ]
    )
    load([{"event": e, "devtodev ID": 7, "date": at(2)} for e in ("rp", "sbs")])
    out = export(*(standard(e) for e in BASIC_EVENTS))
    for event in BASIC_EVENTS:
        header, _ = out.rows(f"{event}.csv")
        assert header == list(STANDARD_EVENTS[event].column_names), event


def test_payment_dates_are_the_stored_event_time_in_ms(load: Load, export: Export) -> None:
    load(
        [
            {
                "event": "rp",
                "devtodev ID": 1,
                "date": at(42),
                "amount_in_usd": 4.99,
                "status": True,
                "transaction_id": "t1",
            }
        ]
    )
    (row,) = export(standard("rp")).records("rp.csv")
    assert (row["date"], row["amount_in_usd"], row["transaction_id"]) == (str(at(42)), "4.99", "t1")


def test_sbs_payments_keeps_only_revenue_events(load: Load, export: Export) -> None:
    kinds = ["purchase", "trial", "renewal", "cancel", "refund"]
    load(
        [
            {"event": "sbs", "devtodev ID": 1, "date": at(i), "event_type": k, "transaction_id": k}
            for i, k in enumerate(kinds)
        ]
    )
    out = export(standard("sbs_payments"), standard("sbs"))
    header, *rows = out.rows("sbs_payments.csv")
    assert header == list(SBS_PAYMENTS.column_names)
    assert [r[header.index("transaction_id")] for r in rows] == ["purchase", "renewal", "refund"]
    assert len(out.records("sbs.csv")) == 5


def test_ip_has_a_column_per_currency_in_the_exported_rows(load: Load, export: Export) -> None:
    load(
        [
            {
                "event": "ip",
                "devtodev ID": 1,
                "time": at(1),
                "item": "sword",
                "currencies": {"Gold": 10, "Coins": 90.5},
            },
            {
                "event": "ip",
                "devtodev ID": 1,
                "time": at(2),
                "item": "shield",
                "currencies": {"Gems": 3},
            },
            {
                "event": "ip",
                "devtodev ID": 1,
                "time": at(-1),
                "item": "old",
                "currencies": {"Ancient": 1},
            },  # before the interval: no column
        ]
    )
    out = export(standard("ip"))
    header, *rows = out.rows("ip.csv")
    assert header == [*STANDARD_EVENTS["ip"].column_names, "Coins", "Gems", "Gold"]
    assert [r[-3:] for r in rows] == [["90.5", "", "10"], ["", "3", ""]]


def test_lu_and_pe_currencies_are_sorted_text(load: Load, export: Export) -> None:
    load(
        [
            {
                "event": "lu",
                "devtodev ID": 1,
                "time": at(1),
                "spent": {"Gold": 10, "Coins": 90},
                "earned": {},
                "balance": {"Coins": 0.5},
            },
            {
                "event": "pe",
                "devtodev ID": 1,
                "time": at(1),
                "location": "cave",
                "earned": {"b": 2, "B": 1, "a": 3},
            },
        ]
    )
    out = export(standard("lu"), standard("pe"))
    (lu,) = out.records("lu.csv")
    assert (lu["spent"], lu["earned"], lu["balance"], lu["bought"]) == (
        "Coins: 90, Gold: 10",
        "",
        "Coins: 0.5",
        "",
    )
    (pe,) = out.records("pe.csv")
    assert (pe["spent"], pe["earned"]) == ("", "B: 1, a: 3, b: 2")


def test_custom_events_have_a_column_per_parameter_in_the_exported_rows(
    load: Load, export: Export
) -> None:
    load(
        [
            {"event": "quest", "devtodev ID": 1, "time": at(1), "params": {"quest": "q1", "xp": 5}},
            {
                "event": "quest",
                "devtodev ID": 1,
                "time": at(2),
                "params": {"gold": 1.5, "win": True},
            },
            {"event": "quest", "devtodev ID": 1, "time": at(3), "params": {"hidden": 1}},
            {"event": "quest", "devtodev ID": 1, "time": at(-5), "params": {"early": 1}},
            {"event": "other", "devtodev ID": 1, "time": at(1), "params": {"foreign": 1}},
        ]
    )
    out = export(custom("quest", filters={"xp": {"gte": 1}}), custom("quest", alias="all"))
    assert out.rows("quest.csv")[0][6:] == ["quest", "xp"]  # only the filtered rows count
    header, *rows = out.rows("all.csv")
    assert header == [
        "devtodev ID",
        "time",
        "level",
        "isTester",
        "cheat",
        "install_date",
        "gold",
        "hidden",
        "quest",
        "win",
        "xp",
    ]
    assert [r[6:] for r in rows] == [
        ["", "", "q1", "", "5"],
        ["1.5", "", "", "true", ""],
        ["", "1", "", "", ""],
    ]


def test_parameters_named_like_columns_get_their_own_column(load: Load, export: Export) -> None:
    load(
        [
            {
                "event": "odd",
                "devtodev ID": 3,
                "time": at(9),
                "level": 4,
                "params": {"level": 99, "time": "t", "app_id": "a", "params": "p"},
            }
        ]
    )
    out = export(custom("odd"))
    (row,) = out.records("odd.csv")
    assert row == {
        "devtodev ID": "3",
        "time": str(at(9)),
        "level": "4",
        "isTester": "",
        "cheat": "",
        "install_date": "",
        "app_id": "a",
        "level_2": "99",
        "params": "p",
        "time_2": "t",
    }
