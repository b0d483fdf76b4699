"""`stats` on Discord (C6): the answer is deferred, then the original is edited with the chart
attached as a PNG whose `description` is the sentence describing it."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

import adapters.discord.adapter as discord_adapter
from bot.charts import PNG_HEIGHT, PNG_WIDTH
from tests.adapters.discord_harness import DiscordHarness, discord_harness
from tests.adapters.discord_standin import DiscordStandIn, discord_standin, slash_command
from tests.contract.seeds import finished_job

QUICK = {"name": "quick", "kind": "command", "command": ["true"], "max_avg_size": "1 MB"}
DEFERRED = 5
EDIT_ORIGINAL = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        yield running


@pytest.fixture
async def discord(tmp_path: Path, standin: DiscordStandIn) -> AsyncIterator[DiscordHarness]:
    async with discord_harness(tmp_path, standin, targets=[QUICK]) as harness:
        yield harness


async def test_stats_attaches_the_chart_with_its_alt_text_as_description(
    discord: DiscordHarness, standin: DiscordStandIn
) -> None:
    now = discord.bot.clock.now()
    for ago, size in ((timedelta(days=1), 800_000), (timedelta(minutes=1), 2_400_000)):
        await finished_job(discord.bot.uow_factory, "quick", now - ago, 30, size)
    status, answer = await discord.send(slash_command("stats", {"target": "quick", "days": 2}))
    assert status == 200 and answer["type"] == DEFERRED  # files cannot ride in the answer
    await discord.settle()
    [edit] = await standin.wait_for(EDIT_ORIGINAL)
    assert edit.status == 200
    [part] = edit.files()
    assert part.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", part.data[16:24]) == (PNG_WIDTH, PNG_HEIGHT)
    [original] = [m for m in standin.originals.values() if m["attachments"]]
    assert "Performance · quick · 2 days" in str(original["embeds"])
    [attachment] = original["attachments"]
    assert attachment["description"] == (
        "Average duration stayed around 30 s, and average size rose from 800.0 kB to 2.4 MB "
        "over 2 days; above the 1.0 MB bound since today."
    )
    assert attachment["filename"].endswith("stats-quick-2d.png")
    assert attachment["content_type"] == "image/png"


async def test_a_slow_stats_answer_still_attaches_its_chart(
    discord: DiscordHarness, standin: DiscordStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the answer's deadline (the first chart on a fresh machine builds matplotlib's font
    cache) the answer follows through the interaction's webhook, with its chart."""
    monkeypatch.setattr(discord_adapter, "ANSWER_WITHIN", 0.0)
    now = discord.bot.clock.now()
    await finished_job(discord.bot.uow_factory, "quick", now - timedelta(minutes=1), 30, 900)
    status, answer = await discord.send(slash_command("stats", {"target": "quick", "days": 2}))
    assert status == 200 and answer["type"] == DEFERRED
    await discord.settle()
    [edit] = await standin.wait_for(EDIT_ORIGINAL)
    [part] = edit.files()
    assert part.data[:8] == b"\x89PNG\r\n\x1a\n"
    [original] = [m for m in standin.originals.values() if m["attachments"]]
    assert original["attachments"][0]["description"].startswith("Average duration")


async def test_a_performance_alert_attaches_its_chart_described(
    discord: DiscordHarness, standin: DiscordStandIn
) -> None:
    status, _ = await discord.send(
        slash_command("subscribe", {"target": "quick", "kinds": "performance"})
    )
    assert status == 200
    now = discord.bot.clock.now()
    for minutes in (3, 2):
        await finished_job(
            discord.bot.uow_factory, "quick", now - timedelta(minutes=minutes), 5, 3_000_000
        )
    await discord.send(slash_command("run", {"target": "quick"}))
    await discord.settle()
    await discord.eventually(
        "SELECT count(*) FROM deliveries WHERE state = 'sent' AND private = 0", [(1,)]
    )
    [alert] = [
        r
        for r in standin.requests_to("POST /channels/{channel_id}/messages")
        if "performance bound" in str(r.json)
    ]
    [part] = alert.files()
    assert struct.unpack(">II", part.data[16:24]) == (PNG_WIDTH, PNG_HEIGHT)
    [described] = alert.json["attachments"]
    assert described["description"].startswith("Average duration ")
    assert described["description"].endswith("; above the 1.0 MB bound since today.")
