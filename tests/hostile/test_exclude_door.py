"""`exclude` and its preset buttons as doors (D2): any arguments, any button name and value,
on Slack and Discord, get a clear answer (never a 500 or an internal error), and what a
refused request leaves is exactly what was there: a draft's exclusions only ever gain a
preset's own entries."""

from __future__ import annotations

import itertools
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exclusions.presets import PRESET_IDS, presets
from tests.adapters.discord_harness import DiscordHarness
from tests.adapters.discord_standin import component
from tests.adapters.slack_harness import ADMIN, SlackHarness
from tests.adapters.slack_standin import block_actions, slash_command
from tests.hostile.chat_shapes import HOSTILE_TEXT
from tests.hostile.test_discord_door import _exchange, _sign
from tests.hostile.test_export_door import quote_word

HOSTILE = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# A slash command's text is form-encoded UTF-8: a lone surrogate cannot be sent at all.
SENDABLE = HOSTILE_TEXT.filter(lambda text: not any("\ud800" <= c <= "\udfff" for c in text))
WORDS = SENDABLE | st.sampled_from(
    ["demo", "add", "logs", "1", "8", "9", "0", "-1", "large-media", "--over", "99999999", ""]
)
PRESET_NAMES = st.sampled_from([*PRESET_IDS, "", "logs/x", "../logs"]) | HOSTILE_TEXT
KNOWN = {entry for preset in presets() for entry in preset.entries}
SIZE = re.compile(r":larger-than=[0-9]{1,7}MB")
_ids = itertools.count(1)


def _draft_entries(rows: list[tuple[str]]) -> list[str]:
    return [entry for (exclude,) in rows for entry in json.loads(exclude)]


def _only_preset_entries(entries: list[str]) -> bool:
    return all(entry in KNOWN or SIZE.fullmatch(entry) for entry in entries)


async def _with_a_draft(slack: SlackHarness) -> None:
    if slack.rows("SELECT count(*) FROM drafts") == [(0,)]:
        draft = 'schedule draft demo --cron "0 3 * * *" --tz UTC'
        status, _ = await slack.post(slash_command(draft, user=ADMIN, response_url=""))
        assert status == 200


@HOSTILE
@given(words=st.lists(WORDS, max_size=4), over=st.none() | WORDS)
async def test_any_exclude_arguments_get_a_clear_reply_and_add_only_a_preset(
    slack: SlackHarness, words: list[str], over: str | None
) -> None:
    await _with_a_draft(slack)
    text = "exclude " + " ".join(quote_word(w) for w in words)
    if over is not None:
        text += f" --over {quote_word(over)}"
    status, answer = await slack.post(slash_command(text, user=ADMIN, response_url=""))
    await slack.settle()
    assert status == 200
    assert answer is not None and "text" in answer, answer
    assert slack.rows("SELECT count(*) FROM audit_log WHERE outcome = 'error'") == [(0,)]
    assert _only_preset_entries(_draft_entries(slack.rows("SELECT exclude FROM drafts")))


@HOSTILE
@given(preset=PRESET_NAMES, value=st.sampled_from(["demo:0", "demo/5:0", "demo/0:0"]) | SENDABLE)
async def test_any_preset_button_on_slack_is_answered_and_adds_only_a_preset(
    slack: SlackHarness, preset: str, value: str
) -> None:
    await _with_a_draft(slack)
    before = slack.rows("SELECT version, exclude FROM drafts")
    body = block_actions(
        f"exclude.add.{preset}", value, user=ADMIN, response_url="", message_ts=f"17.{next(_ids)}"
    )
    status, _ = await slack.post(body)
    await slack.settle()
    assert status == 200
    assert slack.rows("SELECT count(*) FROM audit_log WHERE outcome = 'error'") == [(0,)]
    after = slack.rows("SELECT version, exclude FROM drafts")
    assert _only_preset_entries(_draft_entries([(e,) for _, e in after]))
    known = preset.strip().lower().replace("_", "-") in PRESET_IDS
    if not known:
        assert after == before  # a refused press changes nothing


@HOSTILE
@given(preset=PRESET_NAMES, obj=WORDS, version=st.integers(-5, 10**30).map(str) | HOSTILE_TEXT)
async def test_any_preset_button_on_discord_is_answered_and_audited_once(
    discord: DiscordHarness, preset: str, obj: str, version: str
) -> None:
    before = discord.rows("SELECT count(*) FROM audit_log")[0][0]
    interaction = component(f"exclude.add.{preset}:{obj}:{version}")
    body = json.dumps(interaction).encode()
    status, _ = await _exchange(discord, body, _sign(body))
    await discord.settle()
    assert status == 200
    assert discord.rows("SELECT count(*) FROM audit_log")[0][0] == before + 1
    assert discord.rows("SELECT count(*) FROM audit_log WHERE outcome = 'error'") == [(0,)]
    assert discord.rows("SELECT count(*) FROM drafts") == [(0,)]  # no schedule: nothing opens
