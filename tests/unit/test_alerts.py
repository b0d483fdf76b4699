"""Alerts with context (C2), signed links (G4) and redaction (G3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.app.service import CommandService
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import Job, JobState, Origin, OriginKind
from core.domain.subscriptions import AlertKind, Severity, classify
from core.i18n import Translator
from core.safety.links import job_path, signed_url, verify
from core.safety.redaction import redact
from core.views.alerts import AlertSettings, alert_message
from tests.examples import failed_job
from tests.fakes import FakeStore
from tests.unit.conftest import console, press

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = b"link-secret"
SETTINGS = AlertSettings(
    "https://bot.example.org",
    SECRET,
    runbooks={"failed": "https://wiki/failed", "demo:quota": "https://wiki/demo-quota"},
)


def _failed_job() -> Job:
    return failed_job(
        NOW, error="pg_dump: password=hunter2 rejected by postgres://app:s3cret@db/app"
    )


def test_a_failed_job_alert_says_what_why_and_what_to_do_with_links_and_buttons() -> None:
    event = OutboxEvent(EventKind.JOB_ENDED, "demo", NOW, {"job": 7, "state": "failed"})
    kind, severity = classify(event) or (None, None)
    assert kind is AlertKind.FAILED and severity is Severity.CRITICAL
    message = alert_message(Translator("en"), event, kind, severity, SETTINGS, NOW, _failed_job())
    assert message.title == "Job #7 of demo failed" and message.status == "critical"
    why, todo = message.sections
    assert "No new archive of demo" in why and todo.startswith("Read the log tail")
    fields = {f.label: f.value for f in message.fields}
    assert fields["Runbook"] == "https://wiki/failed"
    assert "hunter2" not in fields["Error"] and "s3cret" not in fields["Error"]
    link = urlsplit(fields["Job page"])
    assert link.netloc == "bot.example.org" and link.path == "/jobs/7"
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert verify(SECRET, "/jobs/7", query["expires"], query["sig"], NOW)
    assert [a.name for a in message.actions] == ["job.retry", "job.log", "job.note"]
    assert all(a.accessibility_label for a in message.actions)
    assert message.job_id == 7 and "Job #7 of demo failed." in message.summary


@pytest.mark.parametrize("language", ["en", "fr"])
def test_only_a_scheduled_failure_speaks_of_its_schedule(language: str) -> None:
    """A job someone started by hand has no schedule whose promise it broke (issue 13)."""
    event = OutboxEvent(EventKind.JOB_ENDED, "demo", NOW, {"job": 7, "state": "failed"})
    t = Translator(language)
    scheduled = alert_message(
        t, event, AlertKind.FAILED, Severity.CRITICAL, SETTINGS, NOW, _failed_job()
    )
    by_hand = replace(_failed_job(), origin=Origin(OriginKind.USER, "teams", "T1", "19:c"))
    started = alert_message(t, event, AlertKind.FAILED, Severity.CRITICAL, SETTINGS, NOW, by_hand)
    schedule_word = {"en": "schedule", "fr": "prévu"}[language]
    assert schedule_word in scheduled.sections[0]
    assert schedule_word not in started.sections[0] and "demo" in started.sections[0]


def test_the_most_specific_runbook_wins_and_review_alerts_carry_versioned_decisions() -> None:
    quota = OutboxEvent(EventKind.QUOTA_THRESHOLD, "demo", NOW, {"threshold": 90, "percent": 91.2})
    message = alert_message(
        Translator("fr"), quota, AlertKind.QUOTA, Severity.WARNING, SETTINGS, NOW
    )
    assert message.title == "Le stockage de demo dépasse 90 % de son quota (91.2 %)"
    assert {f.label: f.value for f in message.fields}["Procédure"] == "https://wiki/demo-quota"
    assert [(a.name, a.object_id) for a in message.actions] == [("target.prune", "demo")]
    review = OutboxEvent(EventKind.DRAFT_SUBMITTED, "demo", NOW, {"draft": 3, "version": 2})
    card = alert_message(Translator("en"), review, AlertKind.REVIEW, Severity.INFO, SETTINGS, NOW)
    assert [(a.name, a.object_id, a.version) for a in card.actions] == [
        ("draft.approve", "3", 2),
        ("draft.reject", "3", 2),
        ("draft.changes", "3", 2),
    ]


def test_a_signed_link_cannot_be_bent_to_another_job_or_kept_past_its_time() -> None:
    url = signed_url("https://b", job_path(7), SECRET, NOW, timedelta(hours=1))
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert verify(SECRET, "/jobs/7", query["expires"], query["sig"], NOW)
    assert not verify(SECRET, "/jobs/8", query["expires"], query["sig"], NOW)
    assert not verify(b"other", "/jobs/7", query["expires"], query["sig"], NOW)
    assert not verify(SECRET, "/jobs/7", query["expires"], query["sig"], NOW + timedelta(hours=2))
    assert not verify(SECRET, "/jobs/7", "soon", query["sig"], NOW)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("curl https://bob:hunter2@example.com/x", "hunter2"),
        ("GET https://s3/x?X-Amz-Signature=abc123def&v=1", "abc123def"),
        ("export PGPASSWORD=s3cr3t; pg_dump", "s3cr3t"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
        ("token xoxb-1234567890-abcdefabcdef", "xoxb-1234567890"),
        ('DB_PASSWORD: "pa ss"', "pa ss"),
        ("key AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
    ],
)
def test_secrets_are_redacted_from_job_text(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_plain_text_is_left_alone() -> None:
    text = "tar: /srv/www/site-a/cache: Cannot open: Permission denied"
    assert redact(text) == text


async def test_alert_buttons_for_targets_and_logs_become_commands(
    service: CommandService, store: FakeStore
) -> None:
    started = await press(service, "target.run", "demo:0", console("bob"))
    assert started is not None and started.job_id == 1
    store.state.jobs[1].state = JobState.FAILED
    store.state.jobs[1].error = "disk full; token=abcd1234"
    tail = await press(service, "job.log", "1:0", console("dave"))
    assert tail is not None and tail.ephemeral
    assert "disk full" in tail.text and "abcd1234" not in tail.text
    preview = await press(service, "target.prune", "demo:0", console("dave"))
    assert preview is not None and "no active schedule" in preview.text
