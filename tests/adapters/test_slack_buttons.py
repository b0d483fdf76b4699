"""Buttons on Slack: the core decides from (action, object:version); refusals stay private."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.slack_harness import ADMIN, VIEWER, SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, block_actions, slash_command


async def _press(
    slack: SlackHarness, action: str, value: str, user: str, ts: str = ""
) -> dict[str, Any]:
    before = len(slack.standin.responses)
    url = slack.standin.response_url("b")
    body = (
        block_actions(action, value, user=user, response_url=url, message_ts=ts)
        if ts
        else block_actions(action, value, user=user, response_url=url)
    )
    status, _ = await slack.post(body)
    assert status == 200
    responses = await slack.standin.wait_for_responses(before + 1)
    return responses[-1]


async def _submitted_draft(slack: SlackHarness) -> None:
    for text in ('schedule draft demo --cron "0 2 * * *" --tz UTC --keep 5', "schedule submit #1"):
        await slack.post(slash_command(text, user=ADMIN, response_url=""))


async def test_a_viewer_pressing_approve_is_told_why_and_nothing_changes(
    slack: SlackHarness,
) -> None:
    await _submitted_draft(slack)
    refused = await _press(slack, "draft.approve", "1:1", VIEWER)
    assert refused["response_type"] == "ephemeral" and refused["replace_original"] is False
    assert "You need the “approve” capability on demo for this." in refused["text"]
    assert slack.rows("SELECT state FROM drafts") == [("submitted",)]
    await slack.settle()  # refusals are audited in batches
    assert slack.rows("SELECT outcome FROM audit_log WHERE actor LIKE '%U0VERA'") == [("refused",)]


async def test_retry_on_a_failed_job_posts_the_new_job_in_the_channel(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    flaky = {
        "name": "flaky",
        "kind": "command",
        "command": ["sh", "-c", "echo disk full >&2; exit 3"],
    }
    async with slack_harness(tmp_path, standin, targets=[flaky]) as slack:
        await slack.post(slash_command("run flaky", user=ADMIN, response_url=""))
        await slack.settle()
        [update] = standin.called("chat.update")
        assert update["text"].split("\n\n", 1)[1].startswith("Job #1 · flaky — failed")
        retry = next(b for b in update["blocks"] if b["type"] == "actions")["elements"][0]
        assert (retry["action_id"], retry["value"]) == ("job.retry", "1:0")

        body = block_actions("job.retry", "1:0", user=ADMIN, response_url=standin.response_url())
        await slack.post(body)
        await slack.settle()
        cards = [
            p
            for p in standin.called("chat.postMessage")
            if p["channel"] == "C0OPS" and "thread_ts" not in p
        ]
        bodies = [c["text"].split("\n\n", 1)[1] for c in cards]  # after each summary (F2)
        assert [b.split(" · ")[0] for b in bodies] == ["Job #1", "Job #2"]
        assert bodies[1].startswith("Job #2 · flaky started")
        assert slack.rows("SELECT id, state FROM jobs") == [(1, "failed"), (2, "failed")]
        assert not standin.responses  # the failed card stays as it was


@pytest.mark.parametrize(
    ("action", "value"),
    [
        ("job.explode", "1:0"),  # an action nobody drew
        ("job.retry", "10**30:1"),
        ("job.retry", "x:y"),
        ("job.cancel", "1:"),
        ("job.cancel", ":"),
        ("job.cancel", ""),
        ("job.retry", "²:0"),  # str.isdigit() says yes, int() says no
        ("job.retry", "1" * 5000 + ":0"),  # past int()'s 4,300 digits
        ("draft.approve", "1:" + "9" * 5000),
        ("draft.approve", "1:٣"),
    ],
)
async def test_a_forged_or_unknown_button_is_answered_and_audited_and_changes_nothing(
    slack: SlackHarness, action: str, value: str
) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    refused = await _press(slack, action, value, ADMIN)
    assert refused["response_type"] == "ephemeral" and refused["replace_original"] is False
    assert "This button no longer does anything." in refused["text"]
    await slack.settle()
    assert slack.rows("SELECT id, state FROM jobs") == [(1, "succeeded")]
    assert slack.rows("SELECT action, outcome FROM audit_log WHERE action = 'button'") == [
        ("button", "invalid")
    ]


async def test_the_review_card_is_posted_for_the_channel_and_remembered_with_its_draft(
    slack: SlackHarness,
) -> None:
    await _submitted_draft(slack)
    await slack.slack.runtime.drain()
    [card] = [p for p in slack.standin.called("chat.postMessage") if p["channel"] == "C0OPS"]
    assert "Sent for review here." in card["text"]
    buttons = [
        e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert {"draft.approve", "draft.reject", "draft.changes"} <= set(buttons)
    assert slack.rows("SELECT kind, draft_id, channel FROM posted_messages") == [
        ("draft", 1, "C0OPS")
    ]


async def test_submit_pressed_on_the_private_draft_card_posts_the_review_card_for_everyone(
    slack: SlackHarness,
) -> None:
    draft = 'schedule draft demo --cron "0 2 * * *" --tz UTC --keep 5'
    await slack.post(slash_command(draft, user=ADMIN, response_url=""))
    before = len(slack.standin.responses)
    body = block_actions(
        "draft.submit",
        "1:1",
        user=ADMIN,
        response_url=slack.standin.response_url("e"),
        ephemeral=True,
    )
    status, _ = await slack.post(body)
    assert status == 200
    [gone] = (await slack.standin.wait_for_responses(before + 1))[before:]
    assert gone.get("delete_original") is True  # the private card goes away
    [card] = [p for p in slack.standin.called("chat.postMessage") if p["channel"] == "C0OPS"]
    assert "draft.approve" in json.dumps(card["blocks"]) and "Sent for review" in card["text"]
    assert slack.rows("SELECT state FROM drafts") == [("submitted",)]
    assert slack.rows("SELECT kind, draft_id FROM posted_messages") == [("draft", 1)]
