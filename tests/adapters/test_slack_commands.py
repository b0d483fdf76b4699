"""`/export` over HTTP: signed requests, fast acks, job messages posted and finished (A1, G1)."""

from __future__ import annotations

import asyncio
import time

from tests.adapters.slack_harness import ADMIN, REVIEWER, VIEWER, SlackHarness
from tests.adapters.slack_standin import TEAM, slash_command


async def test_help_is_answered_in_the_ack_with_a_text_fallback(slack: SlackHarness) -> None:
    body = slash_command("help", user=ADMIN, response_url=slack.standin.response_url())
    started = time.perf_counter()
    status, payload = await slack.post(body)
    assert time.perf_counter() - started < 3
    assert status == 200 and isinstance(payload, dict)
    assert payload["response_type"] == "ephemeral"
    assert "/export run &lt;target&gt;" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"
    # Only identity lookups reached the Web API: the answer itself went back in the ack.
    assert {method for method, _ in slack.standin.calls} == {"auth.test", "users.info"}


async def test_a_run_goes_from_slash_command_to_its_completion_message(
    slack: SlackHarness,
) -> None:
    body = slash_command("run demo", user=ADMIN, response_url=slack.standin.response_url())
    status, payload = await slack.post(body)
    assert status == 200 and not payload  # an empty ack: the job's own message follows

    [posted] = await slack.standin.wait_for("chat.postMessage")
    assert posted["channel"] == "C0OPS"
    assert posted["text"].split("\n\n", 1)[1].startswith("Job #1 · demo started — queued")
    assert "Started by: Alice Admin on Slack, in #ops" in posted["text"]  # users.info gave the name
    buttons = next(b for b in posted["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["job.cancel", "job.note"]
    assert all(b["accessibility_label"] for b in buttons)

    await slack.settle()
    [update] = slack.standin.called("chat.update")
    assert update["ts"] == "1700000001.000100" and update["channel"] == "C0OPS"
    assert update["text"].split("\n\n", 1)[1].startswith("Job #1 · demo — succeeded")
    assert "SHA-256" in update["text"]
    finished = next(b for b in update["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in finished] == ["job.note"]  # nothing left to cancel
    [reply] = slack.standin.thread_replies()
    assert reply["thread_ts"] == "1700000001.000100"
    assert "succeeded" in reply["text"]
    # C3: whoever started it hears privately that it ended.
    await slack.eventually("SELECT channel, private, state FROM deliveries", [(ADMIN, 1, "sent")])
    assert slack.rows(
        "SELECT channel, message_id, kind, job_id FROM posted_messages WHERE kind = 'job'"
    ) == [("C0OPS", "1700000001.000100", "job", 1)]


async def test_a_run_where_the_bot_cannot_post_is_answered_through_the_response_url(
    slack: SlackHarness,
) -> None:
    slack.standin.refuse["chat.postMessage"] = "channel_not_found"  # a DM between two people
    body = slash_command("run demo", user=ADMIN, response_url=slack.standin.response_url())
    await slack.post(body)
    [answer] = await slack.standin.wait_for_responses(1)
    assert answer["response_type"] == "in_channel"
    assert answer["text"].split("\n\n", 1)[1].startswith("Job #1 · demo started")
    await slack.settle()


async def test_a_slow_answer_goes_through_the_response_url(slack: SlackHarness) -> None:
    slack.slack.slash.ack_budget = 0.0  # every answer is "slow"
    body = slash_command("status", user=ADMIN, response_url=slack.standin.response_url("r7"))
    status, payload = await slack.post(body)
    assert status == 200
    assert payload == {"text": "Working on it…", "response_type": "ephemeral"}
    [answer] = await slack.standin.wait_for_responses(1)
    assert answer["text"].startswith("Export status")
    assert answer["replace_original"] is True


async def test_people_whose_slack_locale_is_french_are_answered_in_french(
    slack: SlackHarness,
) -> None:
    body = slash_command("status demo", user=REVIEWER, response_url="")  # locale fr-FR
    _, payload = await slack.post(body)
    assert payload["text"].startswith("Cible demo — au repos")


async def test_a_refusal_names_the_missing_capability_privately(slack: SlackHarness) -> None:
    body = slash_command("run demo", user=VIEWER, response_url=slack.standin.response_url())
    _, payload = await slack.post(body)
    assert payload["response_type"] == "ephemeral"
    assert "You need the “run” capability on demo for this." in payload["text"]
    assert "/export help" in payload["text"]
    assert slack.rows("SELECT count(*) FROM jobs") == [(0,)]


async def test_another_workspace_is_refused_and_audited(slack: SlackHarness) -> None:
    body = slash_command(
        "status", user=ADMIN, team="T0OTHER", response_url=slack.standin.response_url()
    )
    status, payload = await slack.post(body)
    assert status == 200 and isinstance(payload, dict)
    assert "This bot does not serve the workspace T0OTHER." in payload["text"]
    assert "/export help" in payload["text"]
    await slack.settle()  # refusals are audited in batches
    assert slack.rows("SELECT actor, outcome FROM audit_log") == [
        ("slack:T0OTHER:U0ADMIN", "refused")
    ]


async def test_a_nul_byte_is_answered_and_audited_alongside_other_peoples_commands(
    slack: SlackHarness,
) -> None:
    url = slack.standin.response_url()
    answers = await asyncio.gather(
        slack.post(slash_command("status", user=REVIEWER, response_url=url)),
        slack.post(slash_command("status a\0b", user=ADMIN, response_url=url)),  # a%00b
        slack.post(slash_command("status", user=VIEWER, response_url=url)),
    )
    assert all(status == 200 and payload["text"] for status, payload in answers)
    assert "\0" not in answers[1][1]["text"]
    await slack.settle()
    audited = dict(slack.rows("SELECT actor, detail FROM audit_log"))
    assert audited.keys() == {f"slack:{TEAM}:{who}" for who in (ADMIN, REVIEWER, VIEWER)}
    assert audited[f"slack:{TEAM}:{ADMIN}"].startswith("status ab → error.target_not_found")


async def test_a_role_granted_or_revoked_counts_from_the_next_command(slack: SlackHarness) -> None:
    async def run_as_viewer() -> str:
        _, payload = await slack.post(slash_command("run demo", user=VIEWER, response_url=""))
        await slack.settle()
        return str(payload["text"]) if payload else "posted"

    assert "capability" in await run_as_viewer()  # also fills the grants cache
    grant = slash_command(f"role grant <@{VIEWER}> operator", user=ADMIN, response_url="")
    await slack.post(grant)
    assert await run_as_viewer() == "posted"
    revoke = slash_command(f"role revoke <@{VIEWER}> operator", user=ADMIN, response_url="")
    await slack.post(revoke)
    assert "capability" in await run_as_viewer()


async def test_a_finished_job_keeps_the_language_of_its_requester(slack: SlackHarness) -> None:
    grant = slash_command(f"role grant <@{REVIEWER}> operator", user=ADMIN, response_url="")
    await slack.post(grant)
    await slack.post(slash_command("run demo", user=REVIEWER, response_url=""))
    await slack.settle()
    [update] = slack.standin.called("chat.update")
    assert update["text"].split("\n\n", 1)[1].startswith("Job #1 · demo — réussi")


async def test_a_channel_subscribes_to_alerts_from_slack(slack: SlackHarness) -> None:
    body = slash_command("subscribe demo failed,interrupted", user=ADMIN, response_url="")
    _, payload = await slack.post(body)
    assert "This channel receives job failed, job interrupted alerts for demo" in payload["text"]
    assert slack.rows("SELECT platform, workspace, channel, target, kinds FROM subscriptions") == [
        ("slack", "T0EXPORT", "C0OPS", "demo", '["failed", "interrupted"]')
    ]


async def test_a_slow_user_directory_does_not_hold_the_ack(slack: SlackHarness) -> None:
    """users.info is part of the work the ack budget bounds, not a wait before it starts."""
    slack.standin.hold_lookups = asyncio.Event()
    slack.slack.slash.ack_budget = 0.2
    body = slash_command("status", user=VIEWER, response_url=slack.standin.response_url("r1"))
    try:
        async with asyncio.timeout(5):  # Slack gives up at 3 s; a held lookup never ends
            status, payload = await slack.post(body)
    finally:
        slack.standin.hold_lookups.set()
    assert status == 200
    assert payload == {"text": "Working on it…", "response_type": "ephemeral"}
    [answer] = await slack.standin.wait_for_responses(1)
    assert answer["text"].startswith("Export status")


async def test_a_failed_user_lookup_is_not_remembered(slack: SlackHarness) -> None:
    slack.standin.refuse["users.info"] = "fatal_error"
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    [first] = await slack.standin.wait_for("chat.postMessage")
    assert "Started by: u0admin on Slack, in #ops" in first["text"]  # the Slack handle stands in
    await slack.settle()
    del slack.standin.refuse["users.info"]
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    posts = slack.standin.called("chat.postMessage")
    second = next(p for p in posts if "\n\nJob #2 · demo started" in p["text"])
    assert "Started by: Alice Admin on Slack, in #ops" in second["text"]


async def test_a_job_started_in_a_direct_message_names_no_channel(slack: SlackHarness) -> None:
    # Slack names every DM "directmessage" (and group DMs "mpdm-…"): no channel to show.
    body = slash_command(
        "run demo", user=ADMIN, response_url="", channel="D0ALICE", channel_name="directmessage"
    )
    await slack.post(body)
    [posted] = await slack.standin.wait_for("chat.postMessage")
    assert "Started by: Alice Admin on Slack\n" in posted["text"]
    assert "D0ALICE" not in posted["text"] and "directmessage" not in posted["text"]
    await slack.settle()
