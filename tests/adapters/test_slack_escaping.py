"""What people type never becomes a live Slack mention or link: `&`, `<` and `>` are escaped
in the top-level `text` of every payload (the ack, chat.postMessage, chat.update), as they
already are in the blocks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.adapters import slack_standin
from tests.adapters.slack_harness import ADMIN, SlackHarness
from tests.adapters.slack_standin import slash_command

HOSTILE = "<!channel> <!here> <https://evil.example|click>"
LIVE = ("<!channel>", "<!here>", "<https://evil.example")


def texts(slack: SlackHarness, ack: Any) -> list[str]:
    """The `text` of the ack and of everything the bot sent to Slack."""
    sent = [*slack.standin.called("chat.postMessage"), *slack.standin.called("chat.update")]
    sent.extend(slack.standin.responses)
    if isinstance(ack, dict):
        sent.append(ack)
    return [str(payload["text"]) for payload in sent if "text" in payload]


def assert_no_live_mention(all_text: list[str]) -> None:
    for text in all_text:
        assert not any(live in text for live in LIVE), text


async def test_a_note_with_mentions_and_links_is_echoed_escaped(slack: SlackHarness) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()

    body = slash_command(f"annotate 1 {HOSTILE}", user=ADMIN, response_url="")
    status, ack = await slack.post(body)
    await slack.settle()

    assert status == 200
    assert slack.rows("SELECT text FROM annotations") == [(HOSTILE,)]  # kept as typed
    sent = texts(slack, ack)
    assert any(
        "&lt;!channel&gt; &lt;!here&gt; &lt;https://evil.example|click&gt;" in t for t in sent
    )
    assert_no_live_mention(sent)


async def test_a_display_name_with_a_mention_reaches_the_job_message_escaped(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(slack_standin.NAMES, ADMIN, ("<!channel> & co", "en-US"))
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()

    [posted] = slack.standin.called("chat.postMessage")[:1]
    [updated] = slack.standin.called("chat.update")
    for payload in (posted, updated):
        assert "Started by: &lt;!channel&gt; &amp; co on Slack, in #ops" in payload["text"]
    assert_no_live_mention(texts(slack, None))
