"""The scenarios every chat platform must play the same way (issues 6 and 7): a run from
command to completion, a draft approved by button and refused to its author and on a stale
version, a note from a job's thread landing on that job, an alert after a restart, and an
unverified request refused. Each runs on every platform in `conftest.PLATFORMS`; the outcomes
asserted here are the same for all of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.scenarios.chat import ALERTS, ALICE, CAROL, Chat, Seen
from tests.scenarios.conftest import PLATFORMS

DRAFT = 'schedule draft quick --cron "0 2 * * *" --tz UTC --keep 5'


async def test_a_run_goes_from_command_to_its_completion_message(chat: Chat) -> None:
    started = await chat.say(ALICE, "run quick")
    assert "#1" in started.text and "quick" in started.text
    assert "job.cancel" in started.actions  # a running job can be stopped from its message
    await chat.settle()
    finished = await chat.job_message(1)
    assert "succeeded" in finished.text and "Alice Admin" in finished.text
    assert "job.cancel" not in finished.actions and "job.note" in finished.actions
    assert any("succeeded" in said.text for said in await chat.job_thread(1))
    assert chat.rows("SELECT id, state FROM jobs") == [(1, "succeeded")]


async def _submitted_draft(chat: Chat) -> Seen:
    await chat.say(ALICE, DRAFT)
    review = await chat.say(ALICE, "schedule submit #1")
    assert {"draft.approve", "draft.reject", "draft.changes"} <= set(review.actions)
    return review


def _draft_version(chat: Chat) -> int:
    [(version,)] = chat.rows("SELECT version FROM drafts")
    return int(version)


async def test_a_reviewer_approves_a_draft_by_button_and_everyone_sees_it(chat: Chat) -> None:
    review = await _submitted_draft(chat)
    approved = await chat.press(CAROL, review, "draft.approve", "1", _draft_version(chat))
    assert not approved.private
    assert "Approuvé par Carol" in approved.text  # Carol reads French
    assert not {"draft.approve", "draft.reject"} & set(approved.actions)  # decided
    assert chat.rows("SELECT target, cron FROM schedules WHERE active") == [("quick", "0 2 * * *")]


async def test_the_author_of_a_draft_cannot_approve_it(chat: Chat) -> None:
    review = await _submitted_draft(chat)
    refused = await chat.press(ALICE, review, "draft.approve", "1", _draft_version(chat))
    assert refused.private
    assert "someone else must review it (four eyes)" in refused.text
    assert chat.rows("SELECT state FROM drafts") == [("submitted",)]
    assert chat.rows("SELECT count(*) FROM schedules WHERE active") == [(0,)]


async def test_a_button_drawn_for_an_older_version_of_the_draft_is_refused(chat: Chat) -> None:
    review = await _submitted_draft(chat)
    drawn_for = _draft_version(chat)
    await chat.say(ALICE, DRAFT.replace('"0 2', '"30 2'))  # the author edits the draft
    assert _draft_version(chat) == drawn_for + 1
    refused = await chat.press(CAROL, review, "draft.approve", "1", drawn_for)
    assert refused.private
    assert f"(version {drawn_for}, maintenant {drawn_for + 1})" in refused.text
    assert chat.rows("SELECT count(*) FROM schedules WHERE active") == [(0,)]


async def test_a_reply_in_a_jobs_thread_lands_on_that_job_and_is_echoed(chat: Chat) -> None:
    for _ in range(2):
        await chat.say(ALICE, "run quick")
        await chat.settle()
    await chat.reply_in_job_thread(CAROL, 1, "relaunched after host maintenance")
    [(job, author, text, link)] = chat.rows("SELECT job_id, author, text, link FROM annotations")
    assert (job, author, text) == (1, chat.principal(CAROL), "relaunched after host maintenance")
    assert re.match(chat.note_link, link), link  # back to the reply, on the platform
    echoes = [s for s in await chat.job_thread(1) if "relaunched" in s.text]
    assert len(echoes) == 1 and "Carol" in echoes[0].text
    assert not any("relaunched" in s.text for s in await chat.job_thread(2))


async def test_an_alert_reaches_a_subscribed_channel_after_a_restart(chat: Chat) -> None:
    subscribed = await chat.say(ALICE, "subscribe broken failed", channel=ALERTS)
    assert "receives job failed alerts for broken" in subscribed.text
    await chat.restart()  # the new process knows the channel only from the database
    await chat.say(ALICE, "run broken")
    await chat.settle()
    [alert] = await chat.posted_in(ALERTS)
    assert alert.text.startswith("Job #1 of broken failed")
    assert "refused by the NAS" in alert.text  # why, from the job's own words
    assert "job.retry" in alert.actions


@pytest.mark.parametrize(
    ("platform", "forgery"),
    [(platform, forgery) for platform, (_, forged) in PLATFORMS.items() for forgery in forged],
)
async def test_an_unverified_request_gets_401_and_changes_nothing(
    tmp_path: Path, platform: str, forgery: str
) -> None:
    open_chat, _ = PLATFORMS[platform]
    async with open_chat(tmp_path) as chat:
        assert await chat.forge(forgery, "run quick") == 401
        await chat.settle()
        for table in ("jobs", "audit_log", "inbound_events", "conversation_references"):
            assert chat.rows(f"SELECT count(*) FROM {table}") == [(0,)], table
        assert not chat.sent_anything()
