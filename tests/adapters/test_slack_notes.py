"""Notes from Slack threads (B3): a mention in a job's thread, or the message shortcut, lands
on the job that thread belongs to, and is echoed with its author and a link back."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from tests.adapters.slack_harness import ADMIN, REVIEWER, VIEWER, SlackHarness
from tests.adapters.slack_standin import (
    event_callback,
    message_action,
    slash_command,
    view_submission,
)


async def _two_finished_jobs(slack: SlackHarness) -> list[str]:
    """Run demo twice; return the ts of each job's message (job 1, job 2)."""
    for _ in range(2):
        await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
        await slack.settle()
    return [
        ts
        for (ts,) in slack.rows(
            "SELECT message_id FROM posted_messages WHERE kind = 'job' ORDER BY job_id"
        )
    ]


def _mention(text: str, *, ts: str, thread_ts: str | None, user: str = REVIEWER) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": "C0OPS",
        "event_ts": ts,
        "team": "T0EXPORT",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


async def test_a_retried_event_is_handled_once(slack: SlackHarness) -> None:
    [_, job_ts] = await _two_finished_jobs(slack)
    body = event_callback(
        _mention("<@UBOT> checked the disk", ts="1700000901.000100", thread_ts=job_ts),
        event_id="Ev02",
    )
    await slack.post(body, json_body=True)
    for attempt in ("1", "2"):  # Slack's retries carry the same event id
        headers = {"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"}
        status, _ = await slack.post(body, json_body=True, headers=headers)
        assert status == 200
    await slack.settle()
    assert slack.rows("SELECT count(*) FROM annotations") == [(1,)]
    echoes = [
        c for c in slack.standin.called("chat.postMessage") if "checked the disk" in c["text"]
    ]
    assert len(echoes) == 1


async def test_a_mention_outside_a_job_thread_runs_a_command_in_a_thread(
    slack: SlackHarness,
) -> None:
    event = _mention("<@UBOT> status demo", ts="1700000902.000100", thread_ts=None, user=ADMIN)
    await slack.post(event_callback(event, event_id="Ev03"), json_body=True)
    await slack.settle()
    [reply] = slack.standin.called("chat.postMessage")
    assert reply["thread_ts"] == "1700000902.000100"
    assert reply["text"].startswith("Target demo — idle")
    assert slack.rows("SELECT count(*) FROM annotations") == [(0,)]


async def test_a_note_from_someone_without_the_capability_is_refused_in_the_thread(
    slack: SlackHarness,
) -> None:
    [_, job_ts] = await _two_finished_jobs(slack)
    event = _mention("<@UBOT> looks fine", ts="1700000903.000100", thread_ts=job_ts, user=VIEWER)
    await slack.post(event_callback(event, event_id="Ev04"), json_body=True)
    await slack.settle()
    assert slack.rows("SELECT count(*) FROM annotations") == [(0,)]
    reply = slack.standin.thread_replies()[-1]
    assert "You need the “annotate” capability on demo for this." in reply["text"]


async def test_the_message_shortcut_opens_a_note_form_and_saves_the_note(
    slack: SlackHarness,
) -> None:
    [job1_ts, _] = await _two_finished_jobs(slack)
    someone_said = {
        "ts": "1700000950.000100",
        "thread_ts": job1_ts,
        "user": "U0BOB",
        "text": "the NAS was rebooting at 02:00",
    }
    body = message_action(
        user=ADMIN, message=someone_said, response_url=slack.standin.response_url()
    )
    status, _ = await slack.post(body)
    assert status == 200
    [opened] = await slack.standin.wait_for("views.open")
    view = opened["view"]
    sent = json.loads(parse_qs(body)["payload"][0])
    assert opened["trigger_id"] == sent["trigger_id"]  # the modal opens on the press's trigger
    assert view["title"]["text"] == "Note on job #1"
    text_input = next(b for b in view["blocks"] if b["block_id"] == "text")
    assert text_input["label"]["text"] == "Note"  # a label, not just a placeholder
    assert text_input["element"]["initial_value"] == "the NAS was rebooting at 02:00"

    # An empty note stays open with the error under the field.
    values: dict[str, dict[str, Any]] = {
        "text": {"type": "plain_text_input", "value": "   "},
        "kind": {"type": "static_select", "selected_option": {"value": "anomaly"}},
    }
    status, answer = await slack.post(view_submission(view, values, user=ADMIN))
    assert status == 200
    assert answer == {"response_action": "errors", "errors": {"text": "This field is required."}}

    values["text"]["value"] = "NAS reboot during the run"
    status, answer = await slack.post(view_submission(view, values, user=ADMIN))
    assert status == 200 and not answer  # the modal closes
    await slack.settle()
    assert slack.rows("SELECT job_id, kind, text, link FROM annotations") == [
        (
            1,
            "anomaly",
            "NAS reboot during the run",
            f"https://acme.slack.com/archives/C0OPS/p1700000950000100?thread_ts={job1_ts}&cid=C0OPS",
        )
    ]
    echo = slack.standin.thread_replies()[-1]
    assert echo["thread_ts"] == job1_ts and "Alice Admin" in echo["text"]


async def test_the_note_form_starts_from_the_message_as_its_author_wrote_it(
    slack: SlackHarness,
) -> None:
    # Slack sends a message's `& < >` as entities; put in the form as they came, the note
    # would start as "1 &lt; 2 &amp; 3" and be saved so.
    [job1_ts, _] = await _two_finished_jobs(slack)
    someone_said = {"ts": "1700000950.000100", "thread_ts": job1_ts, "user": "U0BOB"}
    someone_said["text"] = "1 &lt; 2 &amp;&amp; 3 &gt; 2, not &amp;lt;"
    body = message_action(
        user=ADMIN, message=someone_said, response_url=slack.standin.response_url()
    )
    await slack.post(body)
    [opened] = await slack.standin.wait_for("views.open")
    text_input = next(b for b in opened["view"]["blocks"] if b["block_id"] == "text")
    assert text_input["element"]["initial_value"] == "1 < 2 && 3 > 2, not &lt;"


async def test_the_shortcut_on_a_message_that_is_not_about_a_job_says_so(
    slack: SlackHarness,
) -> None:
    stray = {"ts": "1700000960.000100", "user": "U0BOB", "text": "lunch?"}
    await slack.post(
        message_action(user=ADMIN, message=stray, response_url=slack.standin.response_url())
    )
    [answer] = await slack.standin.wait_for_responses(1)
    assert answer["response_type"] == "ephemeral"
    assert "not about an export job" in answer["text"]
    assert not slack.standin.called("views.open")
