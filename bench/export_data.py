"""Synthetic rows for the export benchmark: N events of one app, split over a few tables.

The default job is the one the export speed was first measured on from outside: sessions (`gs`),
real payments (`rp`) and a custom event with two parameters, over 50,000 users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

__all__ = ["CUSTOM_EVENT", "DEFAULT_EVENTS", "EVENT_MAKERS", "USERS", "write_bench_files"]

USERS = 50_000
CUSTOM_EVENT = "levelComplete"
_INSTALLED = 1_690_000_000
_COUNTRIES = ("DE", "US", "FR", "BR", "JP", "IN", "GB")

Row = dict[str, object]


def _common(event: str, i: int, user: int, time: int) -> Row:
    return {
        "event": event,
        "devtodev ID": user,
        "time": time,
        "level": 1 + i % 60,
        "isTester": False,
        "cheat": False,
        "install_date": _INSTALLED + user,
    }


def _session(i: int, user: int, time: int) -> Row:
    return {**_common("gs", i, user, time), "count": 1, "avg_duration": 30 + (i % 997) * 0.25}


def _purchase(i: int, user: int, time: int) -> Row:
    currencies = {"Coins": 50 + i % 400} if i % 3 else {"Gems": 1 + i % 9, "Coins": i % 50}
    return {
        **_common("ip", i, user, time),
        "item_type": ("boost", "skin", "pack")[i % 3],
        "item": f"item-{i % 40}",
        "count": 1 + i % 3,
        "currencies": currencies,
    }


def _payment(i: int, user: int, time: int) -> Row:
    row = _common("rp", i, user, time)
    row["date"] = row.pop("time")  # a payment's time is its `date`
    return {
        **row,
        "transaction_id": f"GPA.{3300 + i % 97}-{i:012d}",
        "transaction_name": ("gems_small", "gems_large", "starter_pack", "no_ads")[i % 4],
        "amount_in_usd": (0.99, 4.99, 9.99, 19.99)[i % 4],
        "status": i % 33 != 0,
    }


def _level_up(i: int, user: int, time: int) -> Row:
    return {
        **_common("lu", i, user, time),
        "spent": {"Coins": i % 500, "Gold": i % 7},
        "earned": {"Coins": 120 + i % 90},
        "balance": {"Coins": 500 + i % 1000},
    }


def _level_complete(i: int, user: int, time: int) -> Row:
    params = {"difficulty": ("easy", "normal", "hard")[i % 3], "stars": i % 4}
    return {**_common(CUSTOM_EVENT, i, user, time), "params": params}


DEFAULT_EVENTS = f"gs,rp,{CUSTOM_EVENT}"

EVENT_MAKERS: dict[str, Callable[[int, int, int], Row]] = {
    "gs": _session,
    "ip": _purchase,
    "rp": _payment,
    "lu": _level_up,
    CUSTOM_EVENT: _level_complete,
}


def write_bench_files(
    directory: Path, rows: int, events: Sequence[str], start_ms: int, span_ms: int
) -> list[Path]:
    """User cards, then a JSON-lines file per event: `rows` events in [start, start + span).

    The rows are split evenly over `events` (the first takes the remainder).
    """
    cards = directory / "users.jsonl"
    with cards.open("wb") as out:
        for user in range(1, USERS + 1):
            card = {
                "devtodev ID": user,
                "Main ID": f"main-{user}",
                "Created": _INSTALLED + user,
                "Level": user % 60,
                "Country": _COUNTRIES[user % len(_COUNTRIES)],
                "Paying": user % 20 == 0,
                "AppVersion": "2.4.1",
                "Language": "en",
            }
            out.write(orjson.dumps(card, option=orjson.OPT_APPEND_NEWLINE))
    files = [cards]
    for n, event in enumerate(events):
        count = rows // len(events) + (rows % len(events) if n == 0 else 0)
        make = EVENT_MAKERS[event]
        path = directory / f"{event}.jsonl"
        with path.open("wb") as out:
            for i in range(count):
                row = make(i, 1 + i * 7919 % USERS, start_ms + i * span_ms // count)
                out.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
        files.append(path)
    return files
