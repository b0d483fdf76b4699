"""Hostile presses of the guided tour's buttons (D1) at every chat door: forged or garbage
steps, NUL and control characters, huge numbers, unknown tour actions, signed and real-shaped.

Whatever arrives: never a 500; a press that names no step we drew is answered with the clear
"this button no longer does anything", audited once, and changes nothing in `tours`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.commands.actions import TOUR_DONE, TOUR_NEXT, TOUR_SKIP, Press
from tests.adapters.discord_harness import DiscordHarness
from tests.adapters.discord_standin import component
from tests.adapters.slack_harness import ADMIN, SlackHarness
from tests.adapters.slack_standin import block_actions
from tests.adapters.teams_standin import ConnectorStandIn
from tests.hostile.chat_shapes import HOSTILE_TEXT, JSON_VALUES
from tests.hostile.test_discord_door import _exchange, _sign
from tests.hostile.test_slack_door import command_lines
from tests.hostile.test_teams_door import Door, _door, _settings, alice_presses

HOSTILE = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
REFUSAL = "This button no longer does anything."

NAMES = st.one_of(
    st.sampled_from([TOUR_NEXT, TOUR_SKIP, TOUR_DONE, "tour.", "tour.jump", "tour.next\x00"]),
    HOSTILE_TEXT.map("tour.{}".format),
)
STEPS = st.one_of(
    st.sampled_from(["0", "5", "-1", "１", "²", "", "1\x00", "\x001", "4 ", "10", "9" * 5000]),
    st.integers(-(10**30), 10**30).map(str),
    HOSTILE_TEXT,
)
VERSIONS = st.one_of(st.sampled_from(["0", "1", "x", "", "9" * 30]), HOSTILE_TEXT)


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Door]:
    """The Teams door of tests/hostile/test_teams_door.py (no authentication, loopback)."""
    async for door in _door(_settings(tmp_path), tmp_path / "bot.db"):
        yield door


def _drawn(name: str, step: str, version: str) -> bool:
    """Whether the press is one of the tour's own buttons (a step 1-4): those are answered
    with a step, not refused."""
    press = Press.of(name, f"{step}:{version}")
    return press is not None and press.command() is not None


@HOSTILE
@given(name=NAMES, step=STEPS, version=VERSIONS)
async def test_slack_a_forged_tour_button_gets_a_clear_reply_and_changes_nothing(
    slack: SlackHarness, name: str, step: str, version: str
) -> None:
    drawn = _drawn(name, step, version)
    tours = slack.rows("SELECT * FROM tours")
    lines, responses = command_lines(slack), len(slack.standin.responses)
    body = block_actions(
        name, f"{step}:{version}", user=ADMIN, response_url=slack.standin.response_url("t")
    )
    status, _ = await slack.post(body)
    assert status == 200
    await slack.settle()
    answers = slack.standin.responses[responses:]
    assert len(answers) == 1 and answers[0]["text"]  # answered, with a text fallback
    assert command_lines(slack) == lines + 1
    if not drawn:
        assert REFUSAL in answers[0]["text"]
        assert answers[0]["response_type"] == "ephemeral"
        assert slack.rows("SELECT * FROM tours") == tours


@HOSTILE
@given(name=NAMES, step=STEPS, version=VERSIONS)
async def test_discord_a_forged_tour_button_gets_a_clear_reply_and_changes_nothing(
    discord: DiscordHarness, name: str, step: str, version: str
) -> None:
    drawn = _drawn(name, step, version)
    tours = discord.rows("SELECT * FROM tours")
    audit = discord.rows("SELECT count(*) FROM audit_log")[0][0]
    body = json.dumps(component(f"{name}:{step}:{version}")).encode()
    status, text = await _exchange(discord, body, _sign(body))
    assert status == 200
    answer = json.loads(text)
    await discord.settle()
    assert discord.rows("SELECT count(*) FROM audit_log")[0][0] == audit + 1
    if not drawn:
        assert answer["type"] == 4 and answer["data"]["flags"] == 64  # private to the presser
        assert REFUSAL in json.dumps(answer["data"], ensure_ascii=False)
        assert discord.rows("SELECT * FROM tours") == tours


@HOSTILE
@given(name=NAMES, step=st.one_of(STEPS, JSON_VALUES), version=st.one_of(VERSIONS, JSON_VALUES))
async def test_teams_a_forged_tour_button_gets_a_clear_reply_and_changes_nothing(
    teams: Door, connector: ConnectorStandIn, name: str, step: Any, version: Any
) -> None:
    before = await teams.counts()
    answer = await alice_presses(teams, connector, name, step, version)
    after = await teams.counts()
    assert after["audit_log"] == before["audit_log"] + 1
    if not _drawn(name, str(step), str(version)):  # read as Teams data: "<object>:<version>"
        assert REFUSAL in json.dumps(answer, ensure_ascii=False)
