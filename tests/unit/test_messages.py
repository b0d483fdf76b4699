"""The platform-free message: which fields are links every renderer draws as buttons."""

from __future__ import annotations

import pytest

from core.views.message import Field, Message


@pytest.mark.parametrize(
    ("value", "link"),
    [
        ("https://bot.example.org/jobs/1?expires=1&sig=ab", True),
        ("http://wiki.example/runbook", True),
        ("ftp://files.example/x", False),  # not a web page
        ("https://", False),  # no host
        ("see https://wiki.example", False),  # text that holds a link is text
        ("", False),
    ],
)
def test_a_field_is_a_link_only_when_its_whole_value_is_a_web_address(
    value: str, link: bool
) -> None:
    assert Field("x", value).is_link is link


def test_facts_and_links_split_the_fields_in_order() -> None:
    job, size, runbook = (
        Field("Job", "https://b/j/1"),
        Field("Size", "3 MB"),
        Field("Run", "https://w"),
    )
    message = Message("Job #1", fields=(job, size, runbook))
    assert (message.facts, message.links) == ([size], [job, runbook])


def test_a_job_that_made_no_archive_is_summed_up_without_empty_counts() -> None:
    """A command target's job has no files or size: its sentence said `— files, —`."""
    from datetime import UTC, datetime, timedelta

    from core.domain.model import Job, JobState, Origin, OriginKind
    from core.i18n import Translator
    from core.views.jobs import job_summary

    start = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    job = Job(7, "db-dump", JobState.SUCCEEDED, Origin(OriginKind.SCHEDULE), None, "", start)
    end = start + timedelta(seconds=42)
    job.started_at, job.finished_at = start, end
    for locale in ("en", "fr"):
        sentence = job_summary(Translator(locale), job, end)
        assert "—" not in sentence and "#7" in sentence, sentence
    job.file_count, job.size_bytes = 12, 3_100_000
    assert "12 files" in job_summary(Translator("en"), job, end)
