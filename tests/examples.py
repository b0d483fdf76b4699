"""Example objects several test modules build the same way."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from core.domain.model import Job, JobState, Origin, OriginKind, Principal


def failed_job(at: datetime, **changes: Any) -> Job:
    """Job #7 of `demo`, started by a schedule for Ann, failed five seconds after `at`."""
    job = Job(
        id=7,
        target="demo",
        state=JobState.FAILED,
        origin=Origin(OriginKind.SCHEDULE, reference="3"),
        requester=Principal("slack", "T1", "U1"),
        requester_name="Ann",
        created_at=at,
        started_at=at,
        finished_at=at + timedelta(seconds=5),
        error="disk full",
    )
    return replace(job, **changes)
