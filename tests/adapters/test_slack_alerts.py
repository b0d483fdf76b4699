"""Alerts reach Slack (C1–C3): subscribed channels get the alert with its context and next
steps, the requester gets a private message, and a channel's pace is never exceeded."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.model import Actor, Principal
from tests.adapters.slack_harness import ADMIN, SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slash_command

FAILING = ["sh", "-c", "echo 'fatal: token=abcd1234 refused by the NAS' >&2; exit 2"]


@pytest.fixture
async def alerting(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(
        tmp_path,
        standin,
        targets=[
            {"name": "demo", "kind": "command", "command": FAILING},
            {"name": "quick", "kind": "command", "command": ["true"]},
        ],
        public_url="https://bot.example.org",
        link_secret="test-link-secret",
        runbooks={"failed": "https://wiki.example/exports/failed"},
    ) as harness:
        yield harness


async def _run(slack: SlackHarness, text: str, channel: str = "C0OPS") -> None:
    await slack.post(slash_command(text, user=ADMIN, response_url="", channel=channel))


async def test_a_failed_job_alerts_its_channel_with_context_and_tells_its_requester(
    alerting: SlackHarness, standin: SlackStandIn
) -> None:
    await _run(alerting, "subscribe demo failed", channel="C0ALERTS")
    await _run(alerting, "run demo")
    await alerting.settle()
    posts = await standin.wait_for("chat.postMessage", 4)  # card, thread reply, alert, DM
    [alert] = [p for p in posts if p["channel"] == "C0ALERTS"]
    assert alert["text"].startswith("Job #1 of demo failed — critical")
    assert "https://bot.example.org/jobs/1?expires=" in alert["text"]
    assert "https://wiki.example/exports/failed" in alert["text"]
    assert "abcd1234" not in alert["text"] and "refused by the NAS" in alert["text"]
    what, why, todo = (
        alert["text"].index("failed"),
        alert["text"].index("No new archive"),
        alert["text"].index("Read the log tail"),
    )
    assert what < why < todo  # what happened, why it matters, what to do
    buttons = next(b for b in alert["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["job.retry", "job.log", "job.note"]
    assert standin.called("conversations.open")[0]["users"] == ADMIN
    [dm] = [p for p in posts if p["channel"] == f"D{ADMIN}"]
    assert dm["text"].startswith("Job #1 of demo failed")
    await alerting.eventually(
        "SELECT channel, private, state FROM deliveries ORDER BY channel",
        [("C0ALERTS", 0, "sent"), (ADMIN, 1, "sent")],
    )
    # The alert is remembered, so a note in its thread lands on job #1.
    assert ("C0ALERTS", "alert", 1) in alerting.rows(
        "SELECT channel, kind, job_id FROM posted_messages"
    )


async def test_alerts_to_one_channel_keep_its_pace_and_their_order(
    alerting: SlackHarness, standin: SlackStandIn
) -> None:
    standin.enforce_channel_rate = True
    await _run(alerting, "subscribe quick succeeded", channel="C0ALERTS")
    for run in range(3):  # started from three channels: only the alerts share one
        await _run(alerting, "run quick", channel=f"C0RUN{run}")
        await alerting.settle()
    await alerting.eventually(
        "SELECT count(*) FROM deliveries WHERE channel = 'C0ALERTS' AND state = 'sent'", [(3,)]
    )
    alerts = [r for r in standin.received_at if r[0] == "C0ALERTS"]
    assert [text.split(" of ")[0] for _, _, text in alerts] == ["Job #1", "Job #2", "Job #3"]
    assert standin.limited == 0  # never a 429: the dispatcher kept to one per second
    gaps = [later[1] - earlier[1] for earlier, later in itertools.pairwise(alerts)]
    assert all(gap >= 0.95 for gap in gaps)


async def test_a_destination_no_sender_serves_is_dead_lettered_with_the_reason(
    alerting: SlackHarness,
) -> None:
    # A console subscription: nothing in `serve` sends to the console.
    alice = Actor(Principal("console", "", "alice"), "alice", channel="console")
    await _run(alerting, "role grant console:alice admin")
    await alerting.bot.service.execute_text("subscribe demo failed", alice)
    await _run(alerting, "run demo")
    await alerting.settle()
    await alerting.eventually(
        "SELECT channel, last_error FROM deliveries WHERE state = 'dead'",
        [("console", "nothing in this bot sends to console::console")],
    )
    _, listed = await alerting.post(slash_command("alerts failed", user=ADMIN, response_url=""))
    assert "→ console::console · 0 attempts · nothing in this bot sends" in listed["text"]
    assert "/export alerts retry <id>" in listed["text"]
    [(delivery_id,)] = alerting.rows("SELECT id FROM deliveries WHERE state = 'dead'")
    retry = slash_command(f"alerts retry {delivery_id}", user=ADMIN, response_url="")
    _, retried = await alerting.post(retry)
    assert f"Delivery {delivery_id} will be tried again now." in retried["text"]
    # Still nothing sends to the console: it comes back to the dead letters, tried once more.
    await alerting.eventually("SELECT count(*) FROM deliveries WHERE state = 'dead'", [(1,)])
    unknown = slash_command("alerts retry 999", user=ADMIN, response_url="")
    _, refused = await alerting.post(unknown)
    assert "Delivery 999 is not among the failed ones" in refused["text"]
