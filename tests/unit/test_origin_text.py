"""Who started a job, in words (issue 13, item 5): the platform's name and the channel's name
where the platform gave it, never an internal id, in English and French."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.domain.model import Actor, Origin, OriginKind, Principal
from core.i18n import Translator
from core.views.jobs import job_fields, origin_text
from tests.examples import failed_job

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _started_by(platform: str, channel: str, channel_name: str, locale: str = "en") -> str:
    actor = Actor(
        Principal(platform, "W1", "U1"), "Alex", channel=channel, channel_name=channel_name
    )
    job = replace(failed_job(NOW), origin=Origin.from_actor(actor), requester_name="Alex")
    return origin_text(Translator(locale), job)


@pytest.mark.parametrize(
    ("platform", "channel", "name", "expected"),
    [
        ("slack", "C0OPS4711", "#ops", "Alex on Slack, in #ops"),
        ("slack", "D0DIRECT1", "", "Alex on Slack"),
        (
            "teams",
            "19:3bc2e7ca-1111@thread.tacv2;messageid=1796",
            "Ops",
            "Alex on Microsoft Teams, in Ops",
        ),
        ("teams", "a:1on1-personal-chat", "", "Alex on Microsoft Teams"),
        ("discord", "1180000000000000001", "#builds", "Alex on Discord, in #builds"),
        ("console", "console", "", "Alex on the console"),
    ],
)
def test_the_origin_names_the_platform_and_the_channel_never_an_id(
    platform: str, channel: str, name: str, expected: str
) -> None:
    assert _started_by(platform, channel, name) == expected


def test_the_origin_in_french() -> None:
    assert _started_by("teams", "19:x@thread.tacv2", "Exploitation", "fr") == (
        "Alex sur Microsoft Teams, dans Exploitation"
    )
    assert _started_by("console", "console", "", "fr") == "Alex sur la console"


def test_no_field_of_a_job_shows_its_channels_id() -> None:
    actor = Actor(Principal("teams", "tenant-1", "aad-1"), "Alex", channel="19:raw-id@thread.tacv2")
    job = replace(failed_job(NOW), origin=Origin.from_actor(actor))
    assert Origin.from_actor(actor).channel == "19:raw-id@thread.tacv2"  # kept, for replies
    shown = " ".join(f.value for f in job_fields(Translator("en"), job))
    assert "raw-id" not in shown and "teams" not in shown and "Microsoft Teams" in shown


def test_a_schedule_and_the_api_read_as_before() -> None:
    job = replace(failed_job(NOW), origin=Origin(OriginKind.SCHEDULE, reference="3"))
    assert origin_text(Translator("en"), job) == "schedule 3"
