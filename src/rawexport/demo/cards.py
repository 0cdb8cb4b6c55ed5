"""The user card of a demo player, with the attributes a real SDK reports."""

from __future__ import annotations

import uuid
from typing import Any

from rawexport.demo.player import Player

__all__ = ["player_card"]


def player_card(player: Player) -> dict[str, Any]:
    """The player's card as it is after the last session."""
    rnd = player.rnd
    manufacturer, device, os_version, resolution = player.device
    (country, language, tz), (channel, source, campaign) = player.country, player.channel
    segments = [
        s
        for s, member in (
            ("payers", player.paid),
            ("veterans", player.level > 20),
            ("testers", player.tester),
        )
        if member
    ]
    card: dict[str, Any] = {
        "devtodev ID": player.device_id,
        "Main ID": f"player{player.device_id}",
        "Created": player.install_ms // 1000,
        "Paying": player.paid,
        "Cheater": player.cheater,
        "Tester": player.tester,
        "Level": player.level,
        "AppVersion": player.version,
        "Language": language,
        "Country": country,
        "Device manufacturer": manufacturer,
        "Device name": device,
        "Channel": channel,
        "Screen resolution": resolution,
        "OS version": os_version,
        "OsVersion": os_version,
        "Time zone offset": tz,
        "IDFV": str(uuid.UUID(int=rnd.getrandbits(128))),
        "segments": ",".join(segments),
    }
    if source:
        card.update(
            {
                "InstallSource": source,
                "AdCampaign": campaign,
                "Ad group": f"{campaign}_{country.lower()}",
                "Site": source + ".com",
            }
        )
    if rnd.random() < 0.3:
        card.update(
            {
                "username": f"player{player.device_id}",
                "useremail": f"player{player.device_id}@example.com",
            }
        )
    return card
