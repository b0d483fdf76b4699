"""Scheduled runs: a fire creates a job once per (schedule, fire time); missed fires are found
at start and either run now (within a grace) or recorded as missed (B5).

The clock is injected, so these rules are tested without waiting for real minutes; the
APScheduler wiring in `bot/scheduler.py` only decides *when* to call `fire`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import takewhile

from cronsim import CronSim

from core.domain import cron
from core.domain.audit import audit_entry
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import SYSTEM_ACTOR, NewJob, Origin, OriginKind, Outcome
from core.domain.schedules import Schedule
from core.errors import Conflict
from core.handlers.context import JobControl
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

STARTED, MISSED, SKIPPED = "started", "missed", "skipped"
MAX_MISSES_REPORTED = 20  # a week-long outage of a per-minute schedule is one summary, not 10k


def fires_between(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Fire times in (after, until], aware, in the schedule's time zone."""
    local = after.astimezone(cron.zone(schedule.spec.timezone))
    times = CronSim(schedule.spec.cron, local)
    return list(takewhile(lambda t: t <= until, times))


def latest_fire(schedule: Schedule, at: datetime) -> datetime:
    """The most recent fire time at or before `at` (APScheduler may call a little late)."""
    local = (at + timedelta(seconds=1)).astimezone(cron.zone(schedule.spec.timezone))
    fire_time: datetime = next(iter(CronSim(schedule.spec.cron, local, reverse=True)))
    return fire_time


async def fire(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    jobs: JobControl,
    schedule_id: int,
    fire_time: datetime,
) -> int | None:
    """Start the run of `schedule_id` due at `fire_time`, once. Return the job id, if any."""
    async with uow_factory() as uow:
        schedule = await uow.schedules.get(schedule_id)
        if schedule is None or not await uow.schedules.is_active(schedule_id):
            return None  # replaced since the trigger was set: the new version has its own
        active = await uow.jobs.active_for_target(schedule.target)
        outcome = SKIPPED if active is not None else STARTED
        if not await uow.fires.record(schedule_id, fire_time, outcome, clock.now()):
            return None  # another process (or a retry) already took this fire
        if active is not None:
            await _record_miss(uow, clock, schedule, fire_time, f"busy with job #{active.id}")
            await uow.commit()
            return None
        try:
            job = await uow.jobs.add(
                NewJob(
                    target=schedule.target,
                    origin=Origin(OriginKind.SCHEDULE, reference=_reference(schedule, fire_time)),
                    requester=None,
                    requester_name=f"schedule v{schedule.version}",
                    created_at=clock.now(),
                )
            )
        except Conflict as busy:
            await _record_miss(
                uow, clock, schedule, fire_time, f"busy with job #{busy.params['job']}"
            )
            await uow.commit()
            return None
        await uow.fires.attach_job(schedule_id, fire_time, job.id)
        await uow.audit.append(
            audit_entry(
                SYSTEM_ACTOR,
                clock,
                "job.queued",
                Outcome.OK,
                schedule.target,
                job.id,
                f"schedule #{schedule.id} v{schedule.version} at {fire_time.isoformat()}",
            )
        )
        await uow.commit()
    jobs.launch(job.id)
    return job.id


async def catch_up(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    jobs: JobControl,
    grace: timedelta,
    *,
    unfired: frozenset[str] = frozenset(),
) -> list[int]:
    """Find fires that passed while no scheduler ran: run the latest now if it is within
    `grace`, record the others as missed. Return the jobs started. The schedules of targets in
    `unfired` (reported ones: their runs start elsewhere) are left to the dead-man's switch."""
    now = clock.now()
    async with uow_factory() as uow:
        schedules = [s for s in await uow.schedules.all_active() if s.target not in unfired]
        pending: list[tuple[Schedule, datetime]] = []
        for schedule in schedules:
            since = await uow.fires.last(schedule.id) or schedule.activated_at
            due = fires_between(schedule, since, now)
            if not due:
                continue
            latest = due[-1]
            missed = due[:-1] if now - latest <= grace else due
            for fire_time in missed[-MAX_MISSES_REPORTED:]:
                if await uow.fires.record(schedule.id, fire_time, MISSED, now):
                    await _record_miss(uow, clock, schedule, fire_time, "no scheduler was running")
            if now - latest <= grace:
                pending.append((schedule, latest))
        await uow.commit()
    started = []
    for schedule, fire_time in pending:
        job_id = await fire(uow_factory, clock, jobs, schedule.id, fire_time)
        if job_id is not None:
            started.append(job_id)
    return started


async def _record_miss(
    uow: UnitOfWork, clock: Clock, schedule: Schedule, fire_time: datetime, reason: str
) -> None:
    await uow.outbox.add(
        OutboxEvent(
            EventKind.RUN_MISSED,
            schedule.target,
            clock.now(),
            {
                "schedule": schedule.id,
                "version": schedule.version,
                "fire_time": fire_time.isoformat(),
                "reason": reason,
            },
        )
    )
    await uow.audit.append(
        audit_entry(
            SYSTEM_ACTOR,
            clock,
            "run.missed",
            Outcome.OK,
            schedule.target,
            detail=f"{fire_time.isoformat()}: {reason}",
        )
    )


def _reference(schedule: Schedule, fire_time: datetime) -> str:
    return f"#{schedule.id} v{schedule.version} {fire_time.isoformat(timespec='minutes')}"
