"""The look of the demo game: who the players are and what the shop sells.

Weighted choices keep the figures plausible: most players come from a few countries and
channels, few pay, and those who pay mostly buy the cheapest packs.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from random import Random
from typing import Generic, TypeVar

__all__ = [
    "AD_NETWORKS",
    "COUNTRIES",
    "DEVICES",
    "IAP_PRICES",
    "ITEMS",
    "QUESTS",
    "SHOP_TABS",
    "SOCIALS",
    "SUBSCRIPTIONS",
    "VERSIONS",
    "CHANNELS",
    "Weighted",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Weighted(Generic[T]):
    """Values drawn with fixed weights."""

    values: tuple[T, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, weighted: list[tuple[T, float]]) -> Weighted[T]:
        return cls(tuple(v for v, _ in weighted), tuple(accumulate(w for _, w in weighted)))

    def pick(self, rnd: Random) -> T:
        return rnd.choices(self.values, cum_weights=self.cumulative)[0]


# (country, language, time zone offset in minutes), weight
COUNTRIES: Weighted[tuple[str, str, int]] = Weighted.of(
    [
        (("US", "en", -300), 30),
        (("DE", "de", 60), 10),
        (("GB", "en", 0), 8),
        (("BR", "pt", -180), 9),
        (("RU", "ru", 180), 8),
        (("FR", "fr", 60), 6),
        (("JP", "ja", 540), 6),
        (("IN", "hi", 330), 10),
        (("TR", "tr", 180), 5),
        (("KR", "ko", 540), 4),
        (("ES", "es", 60), 4),
    ]
)
# (manufacturer, device name, OS version, screen resolution), weight
DEVICES: Weighted[tuple[str, str, str, str]] = Weighted.of(
    [
        (("Apple", "iPhone15,2", "17.4", "1179x2556"), 22),
        (("Apple", "iPhone13,2", "16.7", "1170x2532"), 14),
        (("Samsung", "SM-S911B", "14", "1080x2340"), 16),
        (("Samsung", "SM-A546B", "14", "1080x2340"), 14),
        (("Xiaomi", "2201117TG", "13", "1080x2400"), 12),
        (("Google", "Pixel 8", "14", "1080x2400"), 6),
        (("OnePlus", "CPH2449", "14", "1240x2772"), 4),
        (("Huawei", "ELS-NX9", "10", "1200x2640"), 3),
    ]
)
VERSIONS: Weighted[str] = Weighted.of([("1.4.2", 10), ("1.5.0", 25), ("1.5.1", 45), ("1.6.0", 20)])
# (channel, install source, ad campaign), weight
CHANNELS: Weighted[tuple[str, str, str]] = Weighted.of(
    [
        (("Organic", "", ""), 45),
        (("Facebook Ads", "facebook", "spring_sale"), 20),
        (("Google Ads", "google", "uac_broad"), 20),
        (("Unity Ads", "unity", "playable_v2"), 10),
        (("TikTok", "tiktok", "creators_q2"), 5),
    ]
)
# (item type, item, price in Coins), weight
ITEMS: Weighted[tuple[str, str, int]] = Weighted.of(
    [
        (("booster", "Hammer", 50), 30),
        (("booster", "Shuffle", 30), 25),
        (("life", "Extra life", 20), 30),
        (("cosmetic", "Golden frame", 400), 5),
        (("booster", "Color bomb", 120), 10),
    ]
)
# (pack name, price in USD, Gems granted), weight
IAP_PRICES: Weighted[tuple[str, float, int]] = Weighted.of(
    [
        (("gems_small", 0.99, 100), 55),
        (("gems_medium", 4.99, 550), 25),
        (("gems_large", 9.99, 1200), 12),
        (("starter_pack", 2.99, 400), 8),
    ]
)
# (product, price in USD, period in days)
SUBSCRIPTIONS: Weighted[tuple[str, float, int]] = Weighted.of(
    [
        (("vip_weekly", 2.99, 7), 60),
        (("vip_monthly", 7.99, 30), 40),
    ]
)
AD_NETWORKS: Weighted[tuple[str, str]] = Weighted.of(
    [
        (("AppLovin", "rewarded_video"), 45),
        (("ironSource", "interstitial"), 30),
        (("AdMob", "banner"), 25),
    ]
)
SOCIALS: Weighted[str] = Weighted.of(
    [("facebook", 50), ("twitter", 20), ("vk", 10), ("instagram", 20)]
)
SHOP_TABS: Weighted[str] = Weighted.of([("boosters", 45), ("gems", 30), ("offers", 20), ("vip", 5)])
QUESTS: Weighted[tuple[str, int]] = Weighted.of(
    [
        (("Daily login", 10), 50),
        (("Win 3 levels", 25), 30),
        (("Collect 100 stars", 100), 20),
    ]
)
