"""One simulated player of the demo game: the card and the events of their sessions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

from rawexport.demo import shapes

__all__ = ["Player"]

_DAY_MS = 86_400_000


def _sessions(rnd: Random) -> int:
    """How many sessions a player plays: most churn after one or two."""
    kind = rnd.random()
    if kind < 0.55:
        return 1
    if kind < 0.75:
        return 2
    return 3 + int(rnd.expovariate(1 / 12))


@dataclass
class Player:
    """Plays from `install_ms` until the period ends or the player churns."""

    rnd: Random
    device_id: int
    start_ms: int
    end_ms: int
    emit: Callable[[dict[str, Any]], object]
    level: int = 1
    coins: int = 200
    gems: int = 20
    paid: bool = False
    subscription: tuple[str, float, int] | None = None
    original_transaction: str = ""
    expires_ms: int = 0
    trial_running: bool = True
    subscription_over: bool = False

    def __post_init__(self) -> None:
        rnd = self.rnd
        span = self.end_ms - self.start_ms
        self.install_ms = self.start_ms + int(rnd.random() ** 0.8 * span * 0.98)
        self.payer = rnd.random() < 0.04
        self.subscriber = rnd.random() < 0.03
        self.tester = rnd.random() < 0.01
        self.cheater = rnd.random() < 0.005
        self.device = shapes.DEVICES.pick(rnd)
        self.country = shapes.COUNTRIES.pick(rnd)
        self.channel = shapes.CHANNELS.pick(rnd)
        self.version = shapes.VERSIONS.pick(rnd)

    def play(self) -> None:
        rnd, t = self.rnd, self.install_ms
        self._first_session(t)
        for n in range(_sessions(rnd)):
            if n:
                t += int(rnd.expovariate(1 / _DAY_MS)) + 600_000
            duration_ms = int(rnd.lognormvariate(12.5, 0.7))  # about 5 minutes
            if t + duration_ms >= self.end_ms:
                break
            self._event("gs", t, count=1)
            self._session(t, duration_ms)
            self._event("gs", t + duration_ms, avg_duration=round(duration_ms / 1000, 1))

    def _event(self, event: str, t: int, **values: Any) -> None:
        key = "date" if event in ("rp", "sbs") else "time"
        self.emit(
            {"event": event, "devtodev ID": self.device_id, key: t, "level": self.level, **values}
        )

    def _custom(self, name: str, t: int, **params: Any) -> None:
        self.emit(
            {
                "event": name,
                "devtodev ID": self.device_id,
                "time": t,
                "level": self.level,
                "params": params,
            }
        )

    def _first_session(self, t: int) -> None:
        rnd, ident = self.rnd, self.device_id
        self.emit({"event": "rg", "devtodev ID": ident, "install_date": t // 1000})
        self.emit(
            {
                "event": "uu",
                "devtodev ID": ident,
                "time": t,
                "os_version": self.device[2],
                "logged ip": ".".join(str(rnd.randrange(1, 255)) for _ in range(4)),
            }
        )
        self.emit(
            {
                "event": "ud",
                "devtodev ID": ident,
                "time": t,
                "udid_type": "idfv",
                "udid": str(uuid.UUID(int=rnd.getrandbits(128))),
            }
        )
        self._event("tr", t + 1000, step=-1)
        steps = rnd.choice((0, 1, 2, 3, 5, 5, 5, 5))
        if steps == 0:
            self._event("tr", t + 2000, step=0)
            return
        for step in range(1, steps + 1):
            self._event("tr", t + 1000 + step * 15_000, step=step)
        if steps == 5:
            self._event("tr", t + 100_000, step=-2)

    def _session(self, t: int, duration_ms: int) -> None:
        rnd = self.rnd
        for _ in range(rnd.randint(1, 4)):
            t += rnd.randint(20_000, max(20_001, duration_ms // 4))
            self._attempt(t)
        if rnd.random() < 0.2:
            self._shop(t + 5000)
        if rnd.random() < 0.15:
            quest, reward = shapes.QUESTS.pick(rnd)
            self.coins += reward
            self._custom("questFinished", t + 7000, quest=quest, reward=reward)
        if rnd.random() < 0.03:
            self._event("sc", t + 9000, social=shapes.SOCIALS.pick(rnd))
        if rnd.random() < 0.02:
            self._event(
                "sp",
                t + 9500,
                social=shapes.SOCIALS.pick(rnd),
                reason=rnd.choice(("level_up", "achievement", "high_score")),
            )
        if self.payer and rnd.random() < 0.2:
            self._pay(t + 11_000)
        if self.subscriber:
            self._subscribe(t + 12_000)
        elif not self.paid and rnd.random() < 0.3:
            network, unit = shapes.AD_NETWORKS.pick(rnd)
            self._event(
                "adrv",
                t + 13_000,
                source="ad_impression",
                ad_network=network,
                ad_unit=unit,
                placement=rnd.choice(("level_end", "shop", "lives")),
                revenue_in_usd=round(rnd.uniform(0.001, 0.04), 5),
            )

    def _attempt(self, t: int) -> None:
        rnd = self.rnd
        difficulty = min(10, 1 + self.level // 4 + rnd.randint(0, 2))
        success = rnd.random() < 0.75 - difficulty * 0.04
        duration = round(rnd.uniform(40, 240), 1)
        spent = {"Coins": 20} if rnd.random() < 0.2 and self.coins >= 20 else {}
        self.coins -= spent.get("Coins", 0)
        earned = {"Coins": 10 * difficulty} if success else {}
        location = f"Level {self.level}"
        self._event(
            "pe",
            t,
            location=location,
            prev_location=f"Level {max(1, self.level - 1)}",
            success=success,
            duration=duration,
            difficulty=float(difficulty),
            spent=spent,
            earned=earned,
        )
        if not success:
            return
        self.coins += earned["Coins"]
        stars = rnd.choices((1, 2, 3), (3, 4, 3))[0]
        self._custom(
            "levelComplete",
            t + 500,
            difficulty=difficulty,
            stars=stars,
            mode=rnd.choice(("classic", "classic", "timed", "hard")),
        )
        self.level += 1
        bought = {"Gems": 5} if rnd.random() < 0.05 else {}
        self._event(
            "lu",
            t + 600,
            spent=spent,
            earned=earned,
            bought=bought,
            balance={"Coins": self.coins, "Gems": self.gems},
        )

    def _shop(self, t: int) -> None:
        rnd = self.rnd
        self._custom("shopOpened", t, tab=shapes.SHOP_TABS.pick(rnd))
        item_type, item, price = shapes.ITEMS.pick(rnd)
        if self.coins >= price:
            self.coins -= price
            self._event(
                "ip", t + 2000, item_type=item_type, item=item, count=1, currencies={"Coins": price}
            )
        elif self.gems >= price // 10:
            self.gems -= price // 10
            self._event(
                "ip",
                t + 2000,
                item_type=item_type,
                item=item,
                count=1,
                currencies={"Gems": price // 10},
            )

    def _transaction(self) -> str:
        return f"GPA.{self.rnd.getrandbits(64):016x}"

    def _pay(self, t: int) -> None:
        name, usd, gems = shapes.IAP_PRICES.pick(self.rnd)
        failed = self.rnd.random() < 0.03
        self._event(
            "rp",
            t,
            transaction_id=self._transaction(),
            transaction_name=name,
            amount_in_usd=usd,
            status=not failed,
        )
        if not failed:
            self.paid = True
            self.gems += gems

    def _subscribe(self, t: int) -> None:
        """Trial, then a purchase when it ends, renewals each period, now and then a refund."""
        rnd = self.rnd
        if self.subscription is None:
            if rnd.random() < 0.5:
                self.subscription = shapes.SUBSCRIPTIONS.pick(rnd)
                self.original_transaction = self._transaction()
                self.expires_ms = t + 3 * _DAY_MS
                self._sbs(t, "trial", 0.0, is_trial=True)
            return
        _, usd, period_days = self.subscription
        if t < self.expires_ms or self.subscription_over:
            return
        first = self.trial_running
        if rnd.random() < (0.6 if first else 0.85):
            self.trial_running = False
            self.expires_ms = t + period_days * _DAY_MS
            self.paid = True
            self._sbs(t, "purchase" if first else "renewal", usd)
            if rnd.random() < 0.05:
                self._sbs(t + _DAY_MS // 4, "refund", -usd)
        else:
            self.subscription_over = True
            self._sbs(t, "cancel", 0.0)

    def _sbs(self, t: int, event_type: str, usd: float, *, is_trial: bool = False) -> None:
        name = self.subscription[0] if self.subscription else ""
        self._event(
            "sbs",
            t,
            event_type=event_type,
            transaction_id=self._transaction(),
            original_transaction_id=self.original_transaction,
            transaction_name=name,
            amount_in_usd=usd,
            is_trial=is_trial,
            expires_date=self.expires_ms,
        )
