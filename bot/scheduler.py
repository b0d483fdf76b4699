"""Runs the active schedules (ARCHITECTURE.md flow 4) in the one process that leads.

APScheduler 3.11 keeps its jobs in memory (its job stores must never be shared between
processes); our schedule table is the truth, loaded at start and re-synced on every activation
and every few seconds. With PostgreSQL, only the holder of an advisory lock schedules; the lock
lives on a dedicated connection, so a killed leader releases it at once and a standby, polling
every few seconds, takes over well within 15 s. SQLite serves one process: it always leads.
Whatever the leadership, a fire is claimed once per (schedule, fire time) in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.domain.schedules import Schedule
from core.handlers.context import JobControl
from core.handlers.schedules import expire_drafts
from core.jobs.scheduling import catch_up, fire, latest_fire
from core.ports import Clock, UnitOfWorkFactory
from core.support.background import stop, wait_for_wake
from core.support.lifecycle import Lifecycle
from core.support.telemetry import NO_TELEMETRY, Telemetry

log = logging.getLogger(__name__)

LEADER_LOCK_ID = 0x6578_706F_7274_01  # the same in every exportbot process
INBOUND_MEMORY = timedelta(days=1)  # how long a platform event id is remembered (E2)
INBOUND_SWEEP = timedelta(hours=1)


class SchedulerService(Lifecycle):
    def __init__(
        self,
        engine: AsyncEngine,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        jobs: JobControl,
        *,
        grace: timedelta,
        poll_seconds: float = 5.0,
        recover: Callable[[], Awaitable[object]] | None = None,
        watch: Callable[[], Awaitable[object]] | None = None,
        unfired: frozenset[str] = frozenset(),
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._engine = engine
        self._uow_factory = uow_factory
        self._clock = clock
        self._jobs = jobs
        self._grace = grace
        self._poll_seconds = poll_seconds
        self._recover = recover
        # The dead-man's switch of reported targets, judged at every poll by the leader; their
        # schedules say when a run is expected, never start one (`unfired`).
        self._watch = watch
        self._unfired = unfired
        self._telemetry = telemetry  # told when this process leads, and when it stops
        self._schedules: dict[int, Schedule] = {}
        self._aps: AsyncIOScheduler | None = None
        self._lock_connection: AsyncConnection | None = None
        self._wake = asyncio.Event()
        self._inbound_swept_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def role(self) -> str:
        return "leader" if self._aps is not None else "standby"

    def refresh(self) -> None:
        """Re-read the schedule table now (called after an activation in this process)."""
        self._wake.set()

    async def _start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def _stop(self) -> None:
        if self._task is not None:
            await stop(self._task)
        await self._step_down()

    async def _loop(self) -> None:
        while True:
            try:
                if self._aps is None and await self._acquire_leadership():
                    await self._lead()
                elif self._aps is not None:
                    if await self._still_leader():
                        await self._sync()
                        await self._recover_orphans()
                        await self._expire_drafts()
                        await self._check_watches()
                        await self._forget_old_inbound_events()
                    else:
                        log.warning("lost the scheduler lock; standing by")
                        await self._step_down()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: try again at the next poll
                log.exception("scheduler step failed")
                await self._step_down()
            self._wake.clear()
            await wait_for_wake(self._wake, self._poll_seconds)

    async def _acquire_leadership(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return True
        connection = await self._engine.connect()
        try:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": LEADER_LOCK_ID}
            )
            await connection.commit()  # the lock is the session's; no transaction stays open
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._lock_connection = connection
        return True

    async def _still_leader(self) -> bool:
        if self._lock_connection is None:
            return True
        try:
            await self._lock_connection.execute(text("SELECT 1"))
            await self._lock_connection.commit()
        except Exception:
            return False
        return True

    async def _lead(self) -> None:
        log.info("this process now runs the scheduler")
        self._telemetry.scheduler_leader(True)
        # Taking over from a leader that died mid-run: its job would keep the target "busy"
        # (and every fire refused) until its heartbeat went stale.
        await self._recover_orphans()
        started = await catch_up(
            self._uow_factory, self._clock, self._jobs, self._grace, unfired=self._unfired
        )
        if started:
            log.info("started runs missed while no scheduler ran: %s", started)
        self._aps = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
        self._aps.start()
        await self._sync()

    async def _sync(self) -> None:
        """Make APScheduler's jobs match the active schedules."""
        assert self._aps is not None
        async with self._uow_factory() as uow:
            active = {
                s.id: s for s in await uow.schedules.all_active() if s.target not in self._unfired
            }
        for schedule_id in set(self._schedules) - set(active):
            self._aps.remove_job(f"schedule-{schedule_id}")
        for schedule_id, schedule in active.items():
            if schedule_id in self._schedules:
                continue
            self._aps.add_job(
                self._fire,
                CronTrigger.from_crontab(
                    schedule.spec.cron, timezone=ZoneInfo(schedule.spec.timezone)
                ),
                args=[schedule_id],
                id=f"schedule-{schedule_id}",
                misfire_grace_time=int(self._grace.total_seconds()),
                coalesce=True,
                max_instances=1,
            )
        self._schedules = active

    async def _recover_orphans(self) -> None:
        """The leader also sweeps, at every poll, jobs whose process died: one killed between
        queueing a job and claiming it leaves no heartbeat to go stale, only an old queue time."""
        if self._recover is not None:
            await self._recover()

    async def _check_watches(self) -> None:
        if self._watch is not None:
            await self._watch()

    async def _expire_drafts(self) -> None:
        async with self._uow_factory() as uow:
            if await expire_drafts(uow, self._clock):
                await uow.commit()

    async def _forget_old_inbound_events(self) -> None:
        """Retried platform deliveries come within minutes; a day of claims is plenty."""
        now = self._clock.now()
        if self._inbound_swept_at is not None and now - self._inbound_swept_at < INBOUND_SWEEP:
            return
        async with self._uow_factory() as uow:
            await uow.inbound.forget_before(now - INBOUND_MEMORY)
            await uow.commit()
        self._inbound_swept_at = now

    async def _fire(self, schedule_id: int) -> None:
        schedule = self._schedules.get(schedule_id)
        if schedule is None:
            return
        fire_time = latest_fire(schedule, self._clock.now())
        try:
            await fire(self._uow_factory, self._clock, self._jobs, schedule_id, fire_time)
        except Exception:  # one failed fire must not stop the scheduler
            log.exception("schedule #%s could not fire at %s", schedule_id, fire_time)

    async def _step_down(self) -> None:
        self._telemetry.scheduler_leader(False)
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        self._schedules = {}
        if self._lock_connection is not None:
            with contextlib.suppress(Exception):
                await self._lock_connection.close()
            self._lock_connection = None
