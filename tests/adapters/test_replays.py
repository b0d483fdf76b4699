"""Replays and double presses (E2): the same signed request sent again inside the 5-minute
window, or the same button on the same message version pressed twice, acts once; the
second gets "already done" and changes nothing, counted in the database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.discord_harness import discord_harness
from tests.adapters.discord_standin import DiscordStandIn, discord_standin
from tests.adapters.discord_standin import slash_command as discord_command
from tests.adapters.slack_harness import ADMIN, SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, block_actions, slash_command

QUICK = {"name": "quick", "kind": "command", "command": ["true"]}
FLAKY = {"name": "flaky", "kind": "command", "command": ["sh", "-c", "exit 3"]}
ALREADY = "already done"


@pytest.fixture
async def slack_flaky(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(tmp_path, standin, targets=[QUICK, FLAKY]) as harness:
        yield harness


async def test_a_replayed_slash_command_runs_and_notes_once(slack_flaky: SlackHarness) -> None:
    slack = slack_flaky
    run = slash_command("run quick", user=ADMIN, response_url=slack.standin.response_url())
    for _ in range(2):  # the same body, signed again within the window
        status, _ = await slack.post(run)
        assert status == 200
        await slack.settle()  # the first job has ended: only the claim can refuse the replay
    assert slack.rows("SELECT count(*) FROM jobs") == [(1,)]

    note = slash_command('annotate #1 "host rebooted"', user=ADMIN, response_url="")
    answers = [await slack.post(note) for _ in range(5)]
    await slack.settle()
    assert slack.rows("SELECT count(*) FROM annotations") == [(1,)]
    assert all(status == 200 for status, _ in answers)
    assert all(ALREADY in payload["text"].lower() for _, payload in answers[1:])


async def test_a_second_retry_press_on_the_same_card_starts_no_second_job(
    slack_flaky: SlackHarness,
) -> None:
    slack = slack_flaky
    await slack.post(slash_command("run flaky", user=ADMIN, response_url=""))
    await slack.settle()
    [(card_ts,)] = slack.rows("SELECT message_id FROM posted_messages WHERE kind = 'job'")
    for _ in range(2):  # two presses: each its own trigger id, the same card and version
        press = block_actions(
            "job.retry",
            "1:0",
            user=ADMIN,
            response_url=slack.standin.response_url("b"),
            message_ts=card_ts,
        )
        assert (await slack.post(press))[0] == 200
        await slack.settle()
    assert slack.rows("SELECT id FROM jobs ORDER BY id") == [(1,), (2,)]
    [second] = slack.standin.responses
    assert ALREADY in second["text"].lower() and second["response_type"] == "ephemeral"


@pytest.fixture
async def discord_stand() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        yield running


async def test_a_replayed_discord_interaction_notes_once(
    tmp_path: Path, discord_stand: DiscordStandIn
) -> None:
    async with discord_harness(tmp_path, discord_stand, targets=[QUICK]) as discord:
        await discord.send(discord_command("run", {"target": "quick"}))
        await discord.settle()
        note = discord_command("annotate", {"job": "1", "text": "host rebooted"})
        answers = [await discord.send(note) for _ in range(3)]  # the same interaction id
        await discord.settle()
        assert discord.rows("SELECT count(*) FROM annotations") == [(1,)]
        assert all(status == 200 for status, _ in answers)
        assert all(ALREADY in json.dumps(answer).lower() for _, answer in answers[1:])
