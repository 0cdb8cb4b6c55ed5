"""`rawexport demo`'s data: a seeded synthetic match-3 game, loaded through the real loader.

Every player installs during the period, plays a few sessions (most play one or two and never
come back), climbs levels, spends and earns Coins and Gems; few pay, fewer subscribe, the others
watch ads. The events are written as JSON lines and loaded with `load_file`, so the demo also
exercises validation, card fill-in and staging.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

import orjson

from rawexport.demo.cards import player_card
from rawexport.demo.player import Player
from rawexport.store.base import EventStore
from rawexport.store.loading import Ledger, load_file

__all__ = ["DemoStats", "Step", "generate_demo"]

Step = Callable[[str, int], None]
"""Told where generation is: ("players", players made so far), then ("cards", 0), ("events", 0)
as each file starts loading."""


def _quiet(step: str, done: int) -> None:
    pass


_DUMPS = orjson.OPT_APPEND_NEWLINE


@dataclass(frozen=True)
class DemoStats:
    users: int
    events: int
    rows: dict[str, int]
    """Events per event id or custom event name."""
    start_date: int
    """UNIX seconds: no event before."""
    end_date: int
    """UNIX seconds: every event is before."""


def generate_demo(
    store: EventStore,
    app_id: str,
    *,
    ledger: Ledger,
    users: int = 10_000,
    days: int = 30,
    seed: int = 1,
    end: int | None = None,
    workdir: Path,
    on_step: Step = _quiet,
) -> DemoStats:
    """Generate and load `users` players' cards and events for the `days` days before `end`."""
    end_date = int(time.time()) if end is None else end
    start_date = end_date - days * 86_400
    rnd = Random(seed)
    cards_path, events_path = workdir / "demo-users.jsonl", workdir / "demo-events.jsonl"
    with cards_path.open("wb") as cards, events_path.open("wb") as events:
        for device_id in range(1, users + 1):
            player = Player(
                rnd,
                device_id,
                start_date * 1000,
                end_date * 1000,
                emit=lambda row: events.write(orjson.dumps(row, option=_DUMPS)),
            )
            player.play()
            cards.write(orjson.dumps(player_card(player), option=_DUMPS))
            on_step("players", device_id)
    on_step("cards", 0)
    load_file(store, app_id, cards_path, ledger=ledger, users=True)
    on_step("events", 0)
    report = load_file(store, app_id, events_path, ledger=ledger)
    return DemoStats(users, report.total, report.rows, start_date, end_date)
