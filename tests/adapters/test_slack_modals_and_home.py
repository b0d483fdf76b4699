"""Modals (new draft, add note from a button) and the App Home tab on Slack."""

from __future__ import annotations

from typing import Any

from tests.adapters.slack_harness import ADMIN, REVIEWER, SlackHarness
from tests.adapters.slack_standin import (
    block_actions,
    event_callback,
    global_shortcut,
    slash_command,
    view_submission,
)


async def _open_draft_form(slack: SlackHarness) -> dict[str, Any]:
    status, _ = await slack.post(global_shortcut("new_schedule_draft", user=ADMIN))
    assert status == 200
    [opened] = await slack.standin.wait_for("views.open")
    view: dict[str, Any] = opened["view"]
    return view


def _draft_values(cron: str, timezone: str, keep: str = "") -> dict[str, Any]:
    return {
        "target": {"type": "static_select", "selected_option": {"value": "demo"}},
        "cron": {"type": "plain_text_input", "value": cron},
        "timezone": {"type": "plain_text_input", "value": timezone},
        "keep": {"type": "number_input", "value": keep or None},
        "exclude": {"type": "plain_text_input", "value": "*.mp4\nlogs/"},
    }


async def test_the_draft_modal_shows_errors_on_their_fields_then_saves_the_draft(
    slack: SlackHarness,
) -> None:
    view = await _open_draft_form(slack)
    assert view["callback_id"] == "modal.draft"
    labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"]}
    assert labels == {
        "target": "Target",
        "cron": "Schedule (cron)",
        "timezone": "Time zone",
        "keep": "Archives to keep",
        "exclude": "Exclusions",
    }
    assert all(b["type"] == "input" for b in view["blocks"])

    _, answer = await slack.post(
        view_submission(view, _draft_values("every night", "Mars/Olympus"), user=ADMIN)
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"cron", "timezone"}
    assert "is not a cron expression" in answer["errors"]["cron"]
    assert "is not a time zone" in answer["errors"]["timezone"]
    assert slack.rows("SELECT count(*) FROM drafts") == [(0,)]

    _, answer = await slack.post(
        view_submission(view, _draft_values("0 3 * * *", "Europe/Paris", "7"), user=ADMIN)
    )
    assert answer["response_action"] == "update"
    # The result page is closed, not cancelled: what was submitted is done.
    assert (answer["view"]["title"]["text"], answer["view"]["close"]["text"]) == (
        "Saved.",
        "Close",
    )
    shown = "\n".join(
        b.get("text", {}).get("text", "") for b in answer["view"]["blocks"] if "text" in b
    )
    assert "Schedule draft #1 · demo · version 1" in shown
    assert slack.rows("SELECT target, cron, timezone, keep_count, exclude FROM drafts") == [
        ("demo", "0 3 * * *", "Europe/Paris", 7, '["*.mp4", "logs/"]')
    ]


async def test_a_refusal_from_the_core_shows_on_the_form(slack: SlackHarness) -> None:
    view = await _open_draft_form(slack)
    _, answer = await slack.post(
        view_submission(view, _draft_values("0 3 * * *", "UTC"), user=REVIEWER)
    )
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        "target": "Il vous faut la capacité « rédiger un brouillon » sur demo pour cela."
    }
    assert slack.rows("SELECT count(*) FROM drafts") == [(0,)]


async def test_the_add_note_button_opens_the_note_form_for_its_job(slack: SlackHarness) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    [job_ts] = [
        ts for (ts,) in slack.rows("SELECT message_id FROM posted_messages WHERE kind = 'job'")
    ]
    body = block_actions(
        "job.note", "1:0", user=ADMIN, response_url=slack.standin.response_url(), message_ts=job_ts
    )
    await slack.post(body)
    [opened] = await slack.standin.wait_for("views.open")
    view = opened["view"]
    assert view["title"]["text"] == "Note on job #1"
    values: dict[str, dict[str, Any]] = {
        "text": {"type": "plain_text_input", "value": "verified the checksum"},
        "kind": {"type": "static_select", "selected_option": {"value": "note"}},
    }
    _, answer = await slack.post(view_submission(view, values, user=ADMIN))
    assert not answer
    await slack.settle()
    assert slack.rows("SELECT job_id, text FROM annotations") == [(1, "verified the checksum")]
    assert slack.standin.thread_replies()[-1]["thread_ts"] == job_ts


async def test_app_home_shows_recent_jobs_drafts_to_review_and_quotas(
    slack: SlackHarness,
) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    for text in ('schedule draft demo --cron "0 2 * * *" --tz UTC', "schedule submit #1"):
        await slack.post(slash_command(text, user=ADMIN, response_url=""))
    opened = {
        "type": "app_home_opened",
        "user": REVIEWER,
        "channel": "D0CAROL",
        "tab": "home",
        "event_ts": "1700001000.000100",
    }
    status, _ = await slack.post(event_callback(opened, event_id="Ev10"), json_body=True)
    assert status == 200
    [published] = await slack.standin.wait_for("views.publish")
    assert published["user_id"] == REVIEWER
    view = published["view"]
    assert view["type"] == "home"
    text = "\n".join(
        str(b.get("text", {}).get("text", ""))
        for b in view["blocks"]
        if isinstance(b.get("text"), dict)
    )
    assert "#1 demo — réussi" in text  # Carol's locale is French
    assert "brouillon #1 · demo · version 1" in text
    assert "▓" in text or "░" in text  # the quota bar, in text
    [button] = next(b for b in view["blocks"] if b["type"] == "actions")["elements"]
    assert button["action_id"] == "draft.new"

    # The author sees no draft of their own to review.
    opened["user"] = ADMIN
    await slack.post(event_callback(opened, event_id="Ev11"), json_body=True)
    published = (await slack.standin.wait_for("views.publish", 2))[-1]
    own = "\n".join(
        str(b.get("text", {}).get("text", ""))
        for b in published["view"]["blocks"]
        if isinstance(b.get("text"), dict)
    )
    assert "Nothing awaits your review." in own


async def test_a_form_slack_will_not_open_is_explained_to_the_presser(slack: SlackHarness) -> None:
    """An expired trigger (the press reached us late) once made Bolt answer 500, in silence."""
    slack.standin.refuse["views.open"] = "expired_trigger_id"
    body = block_actions("job.note", "1:0", user=ADMIN, response_url=slack.standin.response_url())
    status, _ = await slack.post(body)
    assert status == 200
    [told] = await slack.standin.wait_for_responses(1)
    assert told["response_type"] == "ephemeral" and told["replace_original"] is False
    assert told["text"] == "The form did not open in time. Press the button again."
