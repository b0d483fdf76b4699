"""`stats` on Teams (C6): the chart is an Adaptive Card `Image` at its signed address, with the
sentence describing it as `altText`, in the asker's language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.app import BOT_KEY
from core.safety.links import chart_path
from tests.adapters.teams_harness import teams_client, teams_settings
from tests.adapters.teams_standin import ConnectorStandIn, message
from tests.contract.seeds import finished_job

TARGET = {"name": "quick", "kind": "command", "command": ["true"], "max_avg_duration": "5m"}


def _images(activity: dict[str, Any]) -> list[dict[str, Any]]:
    [attachment] = activity["attachments"]
    return [b for b in attachment["content"]["body"] if b["type"] == "Image"]


async def test_stats_shows_the_chart_with_its_alt_text_in_the_asker_s_language(
    tmp_path: Path, connector: ConnectorStandIn
) -> None:
    settings = teams_settings(
        tmp_path, targets=[TARGET], public_url="https://bot.example.org", link_secret="k"
    )
    async with teams_client(settings) as teams:
        bot = teams.app[BOT_KEY]
        now = bot.clock.now()
        for ago, seconds in ((timedelta(days=2), 120), (timedelta(minutes=1), 480)):
            await finished_job(bot.uow_factory, "quick", now - ago, seconds, None)
        await teams.post(
            "/api/messages",
            json=message("stats quick --days 3", service_url=connector.service_url),
        )
        await teams.post(
            "/api/messages",
            json=message("stats quick --days 3", service_url=connector.service_url, locale="fr-FR"),
        )
        english, french = await connector.wait_for(2)
    [image] = _images(english)
    assert image["altText"] == (
        "Average duration rose from 2 min to 8 min over 3 days; above the 5 min bound since today."
    )
    assert urlsplit(image["url"]).path == chart_path("quick", 3)
    assert "sig=" in image["url"] and image["url"].startswith("https://bot.example.org/")
    [image] = _images(french)
    assert image["altText"] == (
        "La durée moyenne est montée de 2 min à 8 min sur 3 jours\u202f; au-dessus de la limite de "
        "5 min depuis aujourd’hui."
    )
