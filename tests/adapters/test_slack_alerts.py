"""Alerts reach Slack (C1–C3): subscribed channels get the alert with its context and next
steps, the requester gets a private message, and a channel's pace is never exceeded."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.domain.events import EventKind, OutboxEvent
from core.domain.model import Actor, Principal
from tests.adapters.slack_harness import ADMIN, REVIEWER, SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slash_command
from tests.adapters.webhook_standin import TEAMS_SIG, webhook_standin

FAILING = ["sh", "-c", "echo 'fatal: token=abcd1234 refused by the NAS' >&2; exit 2"]
DEMO = [{"name": "demo", "kind": "command", "command": ["true"]}]


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
        webhook_allow_private=True,  # the webhook stand-in listens on loopback
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


async def test_repeats_reply_in_the_first_alerts_thread_which_shows_their_count(
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
    head, *repeats = standin.posts_to("C0ALERTS")
    assert "thread_ts" not in head
    assert [r["thread_ts"] for r in repeats] == [head["ts"], head["ts"]]
    redraws = [u for u in standin.called("chat.update") if u["ts"] == head["ts"]]
    assert "Repeats: 3 alerts like this one" in redraws[-1]["text"]
    assert redraws[-1]["text"].startswith("Job #1 of quick succeeded")  # still the first one


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
    assert "/export alerts retry &lt;id&gt;" in listed["text"]
    [(delivery_id,)] = alerting.rows("SELECT id FROM deliveries WHERE state = 'dead'")
    retry = slash_command(f"alerts retry {delivery_id}", user=ADMIN, response_url="")
    _, retried = await alerting.post(retry)
    assert f"Delivery {delivery_id} will be tried again now." in retried["text"]
    # Still nothing sends to the console: it comes back to the dead letters, tried once more.
    await alerting.eventually("SELECT count(*) FROM deliveries WHERE state = 'dead'", [(1,)])
    unknown = slash_command("alerts retry 999", user=ADMIN, response_url="")
    _, refused = await alerting.post(unknown)
    assert "Delivery 999 is not among the failed ones" in refused["text"]


async def _missed_runs(slack: SlackHarness, count: int) -> None:
    """`count` missed runs of `demo`, written to the outbox at once (a storm)."""
    now = slack.bot.clock.now()
    async with slack.bot.uow_factory() as uow:
        for n in range(count):
            fire = f"2026-11-25T{n:02d}:00:00+00:00"
            await uow.outbox.add(
                OutboxEvent(EventKind.RUN_MISSED, "demo", now, {"fire_time": fire})
            )
        await uow.commit()


async def test_twenty_alerts_reach_one_channel_in_order_within_its_rate_limit(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    standin.enforce_channel_rate = True  # 429 beyond one message a second per channel
    plain = {"alert_group_minutes": 0, "alert_digest_per_minute": 0}
    async with slack_harness(tmp_path, standin, targets=DEMO, **plain) as slack:
        await _run(slack, "subscribe demo missed", channel="C0ALERTS")
        await _missed_runs(slack, 20)
        async with asyncio.timeout(40):
            while len(standin.posts_to("C0ALERTS")) < 20:  # noqa: ASYNC110 - the bot posts
                await asyncio.sleep(0.2)
    texts = [m["text"] for m in standin.posts_to("C0ALERTS")]
    assert [_fire_hour(t) for t in texts] == list(range(20))  # in the order they happened
    assert standin.limited == 0
    times = [at for channel, at, _ in standin.received_at if channel == "C0ALERTS"]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))


async def test_a_storm_folds_into_a_digest_when_configured(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    standin.enforce_channel_rate = True
    storm = {"alert_group_minutes": 0, "alert_digest_per_minute": 5}
    async with slack_harness(tmp_path, standin, targets=DEMO, **storm) as slack:
        await _run(slack, "subscribe demo missed", channel="C0ALERTS")
        await _missed_runs(slack, 20)
        await slack.eventually(
            "SELECT count(*) FROM deliveries WHERE channel = 'C0ALERTS' AND state = 'sent'",
            [(20,)],
            seconds=20,
        )
    posts = standin.posts_to("C0ALERTS")
    assert [_fire_hour(m["text"]) for m in posts[:5]] == [0, 1, 2, 3, 4]  # five, one by one
    [digest] = posts[5:]  # then the fifteen others in one message, in order
    assert digest["text"].startswith("15 alerts in the last minute — digest")
    lines = [line for line in digest["text"].splitlines() if line.startswith("• ")]
    assert [_fire_hour(line) for line in lines] == list(range(5, 20))
    assert len(digest["metadata"]["event_payload"]["keys"].split()) == 15  # each recallable
    assert standin.limited == 0


async def test_one_alert_reaches_a_hundred_channels_within_three_seconds_without_a_429(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    standin.enforce_channel_rate = True
    channels = [f"C0FAN{n:03d}" for n in range(100)]
    async with slack_harness(tmp_path, standin, targets=DEMO) as slack:
        for channel in channels:
            await _run(slack, "subscribe demo missed", channel=channel)
        await _missed_runs(slack, 1)
        written = time.monotonic()
        async with asyncio.timeout(10):
            while not all(standin.posts_to(c) for c in channels):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    arrivals = [at for channel, at, _ in standin.received_at if channel in set(channels)]
    assert len(arrivals) == 100
    assert max(arrivals) - written < 3.0, f"last arrival after {max(arrivals) - written:.2f} s"
    assert standin.limited == 0


async def test_a_dead_letter_tells_the_admins_once(
    alerting: SlackHarness, standin: SlackStandIn
) -> None:
    alice = Actor(Principal("console", "", "alice"), "alice", channel="console")
    await _run(alerting, "role grant console:alice admin")
    await alerting.bot.service.execute_text("subscribe demo failed", alice)
    for _ in range(2):
        await _run(alerting, "run demo")
        await alerting.settle()
    await alerting.eventually("SELECT count(*) FROM deliveries WHERE state = 'dead'", [(2,)])
    await alerting.eventually(
        "SELECT count(*) FROM deliveries d JOIN outbox o ON o.id = d.event_id"
        " WHERE o.kind = 'delivery.dead' AND d.state = 'sent'",
        [(1,)],  # one notice for two dead letters, to the one admin on Slack
    )
    [notice] = [
        p
        for p in standin.called("chat.postMessage")
        if p["text"].startswith("Some alerts could not be delivered")
    ]
    assert notice["channel"] == f"D{ADMIN}"
    assert "console::console" in notice["text"] and "/export alerts failed" in notice["text"]


async def test_a_webhook_subscription_gets_alerts_with_no_bot_on_the_other_side(
    alerting: SlackHarness, standin: SlackStandIn
) -> None:
    async with webhook_standin() as hooks:
        teams = hooks.teams_url
        _, saved = await alerting.post(
            slash_command(
                f"subscribe demo failed --webhook {teams} --format teams",
                user=ADMIN,
                response_url="",
            )
        )
        assert (
            "The teams webhook 127.0.0.1/…voke receives job failed alerts for demo" in saved["text"]
        )
        assert TEAMS_SIG not in saved["text"]  # the URL is a secret: never shown whole
        await _run(alerting, "run demo")
        await alerting.settle()
        async with asyncio.timeout(5):
            while not hooks.received:  # noqa: ASYNC110 - the dispatcher posts on its own
                await asyncio.sleep(0.05)
        [received] = hooks.received
        card = received.json()["attachments"][0]["content"]
        assert card["speak"].startswith("Job #1 of demo failed")
        assert {a["type"] for a in card["actions"]} == {"Action.OpenUrl"}
        _, listed = await alerting.post(
            slash_command("subscriptions --webhooks", user=ADMIN, response_url="")
        )
        assert "The teams webhook 127.0.0.1/…voke — demo: job failed" in listed["text"]
        assert TEAMS_SIG not in listed["text"]
        retired = "https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"
        _, refused = await alerting.post(
            slash_command(f"subscribe demo failed --webhook {retired}", user=ADMIN, response_url="")
        )
        assert "Microsoft retired those" in refused["text"] and "Workflows" in refused["text"]
        _, removed = await alerting.post(
            slash_command(f"unsubscribe demo --webhook {teams}", user=ADMIN, response_url="")
        )
        assert "no longer receives alerts for demo" in removed["text"]


async def test_a_webhook_on_this_machine_is_refused_unless_private_is_allowed(
    slack: SlackHarness,
) -> None:
    async with webhook_standin() as hooks:
        for url in (hooks.json_url, hooks.json_url.replace("127.0.0.1", "2130706433")):
            _, refused = await slack.post(
                slash_command(f"subscribe demo failed --webhook {url}", user=ADMIN, response_url="")
            )
            assert "is this machine: webhooks are not sent there" in refused["text"]
            assert "webhook_allow_private" in refused["text"]
        await slack.settle()
        assert slack.rows("SELECT count(*) FROM webhooks") == [(0,)]
        assert slack.rows("SELECT count(*) FROM subscriptions") == [(0,)]
        assert hooks.received == []


def _fire_hour(text: str) -> int:
    """The hour of a missed run's fire time, as the alert states it."""
    found = re.search(r"2026-11-25T(\d\d):00", text)
    assert found, text
    return int(found.group(1))


async def test_the_requesters_private_message_is_in_their_language(
    alerting: SlackHarness, standin: SlackStandIn
) -> None:
    await _run(alerting, f"role grant <@{REVIEWER}> operator")
    await alerting.post(slash_command("run demo", user=REVIEWER, response_url=""))
    await alerting.settle()
    await alerting.eventually(
        "SELECT count(*) FROM deliveries WHERE private = 1 AND state = 'sent'", [(1,)]
    )
    [dm] = [p for p in standin.called("chat.postMessage") if p["channel"] == f"D{REVIEWER}"]
    assert dm["text"].startswith("Le job #1 de demo a échoué")  # Carol reads French


async def test_a_post_whose_answer_was_lost_is_found_not_posted_again(
    alerting: SlackHarness, standin: SlackStandIn
) -> None:
    await _run(alerting, "subscribe demo missed", channel="C0ALERTS")
    standin.drop_posts = 1  # Slack keeps the alert, the connection drops before the answer
    await _missed_runs(alerting, 1)
    await alerting.eventually(
        "SELECT state, attempts FROM deliveries WHERE channel = 'C0ALERTS'",
        [("sent", 1)],  # one failed attempt (no answer), then found in the channel's history
        seconds=10,
    )
    assert len(standin.posts_to("C0ALERTS")) == 1  # never twice
    assert standin.called("conversations.history")[-1]["channel"] == "C0ALERTS"
