"""The dead-man's switch of `reported` targets: their jobs run elsewhere (cron, CI) and only
report here, so silence is the failure to catch. A target that expects runs (a cron schedule
or an interval) and did not start one within the grace after an expected time is `missed`; a
run started and not finished within `max_runtime` is `stuck`; the next success brings it back
to `ok` (`recovered`).

The state is stored per target and changed by compare-and-set, so each change alerts once,
across restarts and however many processes judge at the same time. Pure rules here; the
periodic check that applies them is core/jobs/deadman.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cronsim import CronSim

from core.domain import cron
from core.domain.model import ACTIVE_STATES, ExpectedRuns, Job, JobState


class Watch(StrEnum):
    OK = "ok"
    MISSED = "missed"
    STUCK = "stuck"


@dataclass(frozen=True)
class WatchState:
    """Where a target stands, and since when. While `ok`, `since` is also the moment from
    which expected runs count (a target newly watched is not blamed for earlier ones)."""

    status: Watch
    since: datetime
    # Stuck: the stuck job. Missed: the latest job, already ended, when the miss was judged
    # (its success, reported late, is no recovery).
    job_id: int | None = None


@dataclass(frozen=True)
class Change:
    """A judgement that moves a target to `after`; `expected` is the missed start time."""

    after: WatchState
    expected: datetime | None = None

    @property
    def status(self) -> Watch:
        return self.after.status


def expected_before(
    expected: ExpectedRuns, anchor: datetime, last_start: datetime | None, now: datetime
) -> datetime | None:
    """The latest expected start whose grace is over by `now` and which came after `anchor`,
    or None when there is none yet."""
    deadline = now - expected.grace
    if expected.every is not None:
        due = max(last_start or anchor, anchor) + expected.every
        return due if due <= deadline else None
    if not expected.cron:
        return None
    local = (deadline + timedelta(seconds=1)).astimezone(cron.zone(expected.timezone))
    fire: datetime = next(iter(CronSim(expected.cron, local, reverse=True)))
    return fire if fire > anchor else None  # one at the very moment watching began is not owed


def judge(
    expected: ExpectedRuns, state: WatchState, latest: Job | None, now: datetime
) -> Change | None:
    """What `state` becomes given the target's most recent job, or None when it stays."""
    if state.status is not Watch.OK and _recovers(latest, state):
        return Change(WatchState(Watch.OK, now))
    active = latest is not None and latest.state in ACTIVE_STATES
    if active and state.status is not Watch.STUCK and expected.max_runtime is not None:
        assert latest is not None
        began = latest.started_at or latest.created_at
        if now - began >= expected.max_runtime:
            return Change(WatchState(Watch.STUCK, now, latest.id))
    if state.status is not Watch.OK or active or not expected.expects_starts:
        return None
    last_start = None if latest is None else latest.started_at or latest.created_at
    due = expected_before(expected, state.since, last_start, now)
    if due is None or (last_start is not None and last_start >= due - expected.grace):
        return None
    assert latest is None or latest.state.is_terminal  # an active one returned above
    ended = latest.id if latest is not None else None
    return Change(WatchState(Watch.MISSED, now, ended), expected=due)


def _recovers(job: Job | None, state: WatchState) -> bool:
    """A success ended at or after the trouble was judged, by another job than the one a
    miss was judged on (the stuck job's own success counts)."""
    return (
        job is not None
        and job.state is JobState.SUCCEEDED
        and job.finished_at is not None
        and job.finished_at >= state.since
        and not (state.status is Watch.MISSED and job.id == state.job_id)
    )
