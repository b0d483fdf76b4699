"""The spoken summary of a job (F2): one sentence with its state and the next step to take.

"Job #12 of site-a failed 20 min ago: the disk is full; prune old archives, then retry."

The same sentence is the `summary <job>` reply, Slack's `text` fallback and Teams' `speak` of
the job's message, and the job page's live region. Pure: the time it is said at is passed in,
so "20 min ago" is the same on every platform and in tests.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from core.domain.model import Job, JobState
from core.i18n import Translator


class Cause(StrEnum):
    """Why a job failed, read from the error its runner recorded (core/jobs/runners/)."""

    DISK_FULL = "disk_full"
    PERMISSION = "permission"
    SOURCE_MISSING = "source_missing"
    MISCONFIGURED = "misconfigured"
    COMMAND_MISSING = "command_missing"
    TIMED_OUT = "timed_out"
    KILLED = "killed"
    EXIT_STATUS = "exit_status"
    REPORTED_ELSEWHERE = "reported_elsewhere"
    UNREADABLE = "unreadable"
    UNKNOWN = "unknown"


# The runners' own wording (archive.py, command.py, base.py, core/api/service.py), first match
# wins: "cannot read x: permission denied" is a permission problem before an unreadable file.
_CAUSES: tuple[tuple[re.Pattern[str], Cause], ...] = tuple(
    (re.compile(pattern), cause)
    for pattern, cause in (
        (r"^no space left", Cause.DISK_FULL),
        (r"permission denied", Cause.PERMISSION),
        (r"^source folder .* does not exist|^source .* is not a folder", Cause.SOURCE_MISSING),
        (
            r"^target .* has no (source folder|archive folder|command)"
            r"|^working folder .* does not exist",
            Cause.MISCONFIGURED,
        ),
        (r"^command not (found|executable)|^cannot start ", Cause.COMMAND_MISSING),
        (r"^timed out after", Cause.TIMED_OUT),
        (r"^killed by signal", Cause.KILLED),
        (r"^exited with status|^exit status", Cause.EXIT_STATUS),
        (r" is a reported target", Cause.REPORTED_ELSEWHERE),
        (r"^cannot (read|write)", Cause.UNREADABLE),
    )
)


def failure_cause(error: str | None) -> Cause:
    """The known cause of a failure from its recorded error text; UNKNOWN otherwise."""
    text = (error or "").strip()
    for pattern, cause in _CAUSES:
        if pattern.search(text):
            return cause
    return Cause.UNKNOWN


def ago(t: Translator, then: datetime, now: datetime) -> str:
    """`just now`, `20 min ago`, `3 h ago`, `2 days ago` (a moment in the future is now)."""
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 60:
        return t.t("ago.now")
    minutes = int(seconds // 60)
    if minutes < 60:
        return t.t("ago.minutes", count=minutes)
    hours = minutes // 60
    if hours < 48:
        return t.t("ago.hours", count=hours)
    return t.t("ago.days", count=hours // 24)


def job_sentence(t: Translator, job: Job, now: datetime, percent: int | None = None) -> str:
    """One sentence: the job's state, when, why where it failed, and the next step.

    `percent` is how far a running job is, when something tells (core/jobs/progress.py).
    """
    values: dict[str, object] = {"job": job.id, "target": job.target}
    state = job.state
    if state is JobState.QUEUED:
        return t.t("summary.queued", ago=ago(t, job.created_at, now), **values)
    if state is JobState.RUNNING:
        started = ago(t, job.started_at or job.created_at, now)
        if percent is not None:
            return t.t("summary.running_percent", ago=started, percent=percent, **values)
        return t.t("summary.running", ago=started, **values)
    ended = ago(t, job.finished_at or job.started_at or job.created_at, now)
    if state is JobState.SUCCEEDED:
        if job.file_count is None and job.size_bytes is None:  # a command target: no counts
            return t.t(
                "summary.succeeded_without_archive",
                ago=ended,
                duration=t.duration(job.duration),
                **values,
            )
        return t.t(
            "summary.succeeded",
            ago=ended,
            files=t.t("line.files", count=job.file_count) if job.file_count is not None else "—",
            size=t.size(job.size_bytes),
            duration=t.duration(job.duration),
            **values,
        )
    if state is JobState.FAILED:
        cause = failure_cause(job.error)
        return t.t(
            "summary.failed",
            ago=ended,
            cause=t.t(f"cause.{cause.value}", **values),
            step=t.t(f"cause.{cause.value}.step", **values),
            **values,
        )
    if state is JobState.CANCELLED:
        return t.t("summary.cancelled", ago=ended, **values)
    return t.t("summary.interrupted", ago=ended, **values)
