"""Scheduled fires with a controllable clock: once per minute due, missed runs, busy targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import FrozenClock
from core.domain.events import EventKind
from core.domain.model import JobState, OriginKind
from core.domain.schedules import Retention, Schedule, ScheduleSpec
from core.jobs.scheduling import catch_up, fire, fires_between, latest_fire
from core.ports import UnitOfWorkFactory
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.conftest import RecordingJobControl

GRACE = timedelta(minutes=10)
# 2026-03-02 00:30 UTC is 01:30 in Paris (CET).
START = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


async def _activate(store: FakeStore, cron_expression: str, at: datetime) -> int:
    async with FakeUnitOfWork(store) as uow:
        schedule = await uow.schedules.activate(
            "demo", ScheduleSpec(cron_expression, "Europe/Paris", Retention()), 1, at, "x"
        )
        await uow.commit()
    return schedule.id


def _factory(store: FakeStore) -> UnitOfWorkFactory:
    return store.uow


async def test_the_job_fires_at_the_scheduled_minute_and_only_once() -> None:
    store, clock, jobs = FakeStore(), FrozenClock(START), RecordingJobControl()
    await _activate(store, "0 2 * * *", clock.now())
    clock.advance(timedelta(minutes=29))  # 01:59 in Paris
    assert await catch_up(_factory(store), clock, jobs, GRACE) == []
    clock.advance(timedelta(minutes=1, seconds=5))  # 02:00:05
    assert await catch_up(_factory(store), clock, jobs, GRACE) == [1]
    assert await catch_up(_factory(store), clock, jobs, GRACE) == []
    job = store.state.jobs[1]
    assert job.origin.kind is OriginKind.SCHEDULE and job.state is JobState.QUEUED
    assert job.origin.reference == "#1 v1 2026-03-02T02:00+01:00"
    assert jobs.launched == [1]


async def test_a_fire_is_idempotent_on_schedule_and_fire_time() -> None:
    store, clock, jobs = FakeStore(), FrozenClock(START), RecordingJobControl()
    schedule_id = await _activate(store, "* * * * *", clock.now())
    at = datetime(2026, 3, 2, 0, 31, tzinfo=UTC)
    results = [await fire(_factory(store), clock, jobs, schedule_id, at) for _ in range(3)]
    assert results == [1, None, None]
    assert len(store.state.jobs) == 1


async def test_runs_missed_while_down_are_recorded_and_the_latest_runs_within_grace() -> None:
    store, clock, jobs = FakeStore(), FrozenClock(START), RecordingJobControl()
    await _activate(store, "0 2 * * *", clock.now())
    clock.advance(timedelta(days=2, minutes=35))  # day 3, 02:05 Paris: 5 minutes late
    assert await catch_up(_factory(store), clock, jobs, GRACE) == [1]
    missed = [e.payload["fire_time"] for e in store.state.outbox if e.kind is EventKind.RUN_MISSED]
    assert missed == ["2026-03-02T02:00:00+01:00", "2026-03-03T02:00:00+01:00"]
    assert any(e.action == "run.missed" for e in store.state.audit)


async def test_beyond_the_grace_the_latest_run_is_missed_too() -> None:
    store, clock, jobs = FakeStore(), FrozenClock(START), RecordingJobControl()
    await _activate(store, "0 2 * * *", clock.now())
    clock.advance(timedelta(hours=8))  # 09:30 Paris
    assert await catch_up(_factory(store), clock, jobs, GRACE) == []
    assert [e.kind for e in store.state.outbox] == [EventKind.RUN_MISSED]
    assert await catch_up(_factory(store), clock, jobs, GRACE) == []  # recorded once
    assert len(store.state.outbox) == 1


async def test_a_fire_on_a_busy_target_is_recorded_as_missed() -> None:
    store, clock, jobs = FakeStore(), FrozenClock(START), RecordingJobControl()
    schedule_id = await _activate(store, "* * * * *", clock.now())
    first = await fire(_factory(store), clock, jobs, schedule_id, START + timedelta(minutes=1))
    second = await fire(_factory(store), clock, jobs, schedule_id, START + timedelta(minutes=2))
    assert (first, second) == (1, None)
    [event] = store.state.outbox
    assert event.kind is EventKind.RUN_MISSED and event.payload["reason"] == "busy with job #1"


async def test_a_replaced_schedule_no_longer_fires() -> None:
    store, clock, jobs = FakeStore(), FrozenClock(START), RecordingJobControl()
    old = await _activate(store, "* * * * *", clock.now())
    await _activate(store, "0 3 * * *", clock.now())
    assert await fire(_factory(store), clock, jobs, old, START + timedelta(minutes=1)) is None


def test_fire_times_follow_the_time_zone() -> None:
    schedule = Schedule(1, "demo", 1, ScheduleSpec("30 2 * * *", "Europe/Paris"), None, START, "x")
    times = fires_between(
        schedule, datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    )
    assert [t.isoformat() for t in times] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:30 does not exist that night
        "2026-03-30T02:30:00+02:00",
    ]
    assert latest_fire(schedule, datetime(2026, 3, 30, 0, 30, 2, tzinfo=UTC)).isoformat() == (
        "2026-03-30T02:30:00+02:00"
    )
