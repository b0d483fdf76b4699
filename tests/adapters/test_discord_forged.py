"""Discord buttons and modals carry ids we drew (`job.retry:7:0`, `note:7`); a forged or
out-of-date one gets a private refusal, audited — never an internal error, never dropped."""

from __future__ import annotations

import pytest

from tests.adapters.discord_harness import DiscordHarness
from tests.adapters.discord_standin import (
    EPHEMERAL,
    component,
    modal_submit,
)

FORGED_BUTTONS = [
    "job.retry:" + "1" * 31 + ":1",  # 10**30-sized: past what any id column holds
    "job.retry:1:" + "9" * 5000,
    "job.retry:²:0",
    "job.retry:1:²",
    "job.retry:1:",
    "job.retry:x:y",
    "no.such.action:1:0",
    "job.retry",
    ":1:0",
]


@pytest.mark.parametrize("custom_id", FORGED_BUTTONS)
async def test_a_forged_button_is_refused_privately_and_audited(
    discord: DiscordHarness, custom_id: str
) -> None:
    status, answer = await discord.send(component(custom_id))
    assert status == 200
    assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL
    await discord.settle()
    assert discord.rows("SELECT count(*) FROM jobs") == [(0,)]
    [(outcome, detail)] = discord.rows("SELECT outcome, detail FROM audit_log")
    assert outcome == "invalid"
    assert len(detail) <= 1000  # the forged value is named, not stored whole


FORGED_MODALS = ["note:²", "note:" + "9" * 5000, "note:" + "1" * 31, "nosuchform:1", ""]


@pytest.mark.parametrize("custom_id", FORGED_MODALS)
async def test_a_forged_modal_is_refused_privately_without_a_note(
    discord: DiscordHarness, custom_id: str
) -> None:
    status, answer = await discord.send(modal_submit(custom_id, {"text": "hello"}))
    assert status == 200
    assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL
    await discord.settle()
    assert discord.rows("SELECT count(*) FROM annotations") == [(0,)]
