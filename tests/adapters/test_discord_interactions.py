"""Discord interactions over HTTP (A3, G1): signed requests only, PING answered, `/export`
run from typed options, quick answers in the response, job messages redrawn when they end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.discord_harness import DiscordHarness, discord_harness
from tests.adapters.discord_standin import (
    CHANNEL_ID,
    EPHEMERAL,
    DiscordStandIn,
    discord_standin,
    ping,
    slash_command,
)

QUICK = {"name": "quick", "kind": "command", "command": ["true"]}


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        yield running


@pytest.fixture
async def discord(tmp_path: Path, standin: DiscordStandIn) -> AsyncIterator[DiscordHarness]:
    async with discord_harness(tmp_path, standin, targets=[QUICK]) as harness:
        yield harness


async def test_a_ping_is_answered_with_a_pong(discord: DiscordHarness) -> None:
    assert await discord.send(ping()) == (200, {"type": 1})


async def test_help_is_answered_in_the_response_to_the_asker_only(discord: DiscordHarness) -> None:
    status, answer = await discord.send(slash_command("help"))
    assert status == 200 and answer["type"] == 4
    embed = answer["data"]["embeds"][0]
    assert "run" in str(embed)


async def test_a_run_goes_from_command_to_its_redrawn_message_and_thread(
    discord: DiscordHarness, standin: DiscordStandIn
) -> None:
    status, answer = await discord.send(slash_command("run", {"target": "quick"}))
    assert status == 200 and answer["type"] == 4
    assert not answer["data"].get("flags", 0) & EPHEMERAL
    await discord.settle()
    [(channel, message_id)] = discord.rows(
        "SELECT channel, message_id FROM posted_messages WHERE kind = 'job'"
    )
    assert channel == CHANNEL_ID
    message = standin.messages[message_id]
    assert "succeeded" in message["embeds"][0]["title"]
    [told] = standin.bodies("POST /channels/{channel_id}/messages")
    assert "succeeded" in str(told)
    assert message_id in standin.threads  # the outcome went in the job message's thread
