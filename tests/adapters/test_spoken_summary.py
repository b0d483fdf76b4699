"""F2's sentence where screen readers and notifications read it: Slack's `text` of a job's
message starts with it, a Teams card speaks it, Discord's and the console's text keep it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.slack.render import render as slack_render
from adapters.teams.cards import message_activity
from core.domain.model import Job, JobState, Origin, OriginKind
from core.i18n import Translator
from core.views.jobs import job_message
from core.views.message import ending
from core.views.summary import job_sentence

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _failed() -> Job:
    job = Job(12, "site-a", JobState.FAILED, Origin(OriginKind.SCHEDULE), None, "", NOW)
    job.started_at = NOW - timedelta(minutes=25)
    job.finished_at = NOW - timedelta(minutes=20)
    job.error = "no space left in archive folder /srv/archives"
    return job


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_slack_leads_a_job_message_with_the_sentence_and_teams_speaks_it(locale: str) -> None:
    t = Translator(locale)
    sentence = job_sentence(t, _failed(), NOW)
    message = job_message(t, _failed(), now=NOW)
    payload = slack_render(message)
    assert payload["text"].split("\n\n")[0] == sentence
    assert "Job #12 · site-a" in payload["text"]  # and everything else after it
    activity = message_activity(message)
    assert activity["speak"] == sentence == activity["summary"]
    assert activity["attachments"][0]["content"]["speak"] == sentence


def test_the_thread_s_ending_line_is_the_sentence_once() -> None:
    message = ending(job_message(Translator("en"), _failed(), now=NOW))
    text = slack_render(message)["text"]
    assert text.startswith("Job #12 of site-a failed 20 min ago: the disk is full;")
    assert text.count("the disk is full") == 1


def test_a_message_that_is_not_a_job_s_keeps_its_text() -> None:
    from core.views.message import Message

    message = Message("Help", summary="Every command.", sections=("run a target",))
    assert slack_render(message)["text"] == message.text
