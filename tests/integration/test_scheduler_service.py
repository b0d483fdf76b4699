"""The scheduler service on SQLite: it leads alone, mirrors the schedule table into APScheduler,
and sweeps expired drafts."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from bot.scheduler import SchedulerService
from core.clock import SystemClock
from core.domain.events import EventKind
from core.domain.model import JobState, NewJob, Origin, OriginKind, Principal
from core.domain.schedules import DraftState, NewDraft, ScheduleSpec
from core.jobs.executor import JobExecutor
from storage import SqlUnitOfWorkFactory, open_engine, upgrade
from tests.unit.conftest import RecordingJobControl


async def _until(predicate: Callable[[], Awaitable[bool] | bool], within: float = 5.0) -> None:
    for _ in range(int(within / 0.02)):
        outcome = predicate()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not true within {within} s")


async def test_the_scheduler_mirrors_activations_and_sweeps_expired_drafts(
    tmp_path: Path,
) -> None:
    clock = SystemClock()
    async with open_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}") as engine:
        await upgrade(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        async with uow_factory() as uow:
            await uow.drafts.add(
                NewDraft(
                    "demo",
                    Principal("console", "", "alice"),
                    "alice",
                    ScheduleSpec("0 2 * * *", "UTC"),
                    clock.now() - timedelta(days=8),
                    clock.now() - timedelta(days=1),
                )
            )
            await uow.schedules.activate(
                "demo", ScheduleSpec("0 2 * * *", "UTC"), None, clock.now(), "x"
            )
            await uow.commit()
        scheduler = SchedulerService(
            engine,
            uow_factory,
            clock,
            RecordingJobControl(),
            grace=timedelta(minutes=10),
            poll_seconds=0.05,
        )
        async with scheduler:
            await _until(lambda: scheduler.role == "leader")
            assert scheduler._aps is not None
            assert [job.id for job in scheduler._aps.get_jobs()] == ["schedule-1"]

            async with uow_factory() as uow:
                await uow.schedules.activate(
                    "site", ScheduleSpec("*/5 * * * *", "Europe/Paris"), None, clock.now(), "x"
                )
                await uow.commit()
            scheduler.refresh()
            await _until(lambda: len(scheduler._aps.get_jobs()) == 2)  # type: ignore[union-attr]

            async def expired() -> bool:
                async with uow_factory() as uow:
                    draft = await uow.drafts.get(1)
                    return draft is not None and draft.state is DraftState.EXPIRED

            await _until(expired)
        assert scheduler.role == "standby"  # stopped cleanly
        async with uow_factory() as uow:
            kinds = [e.kind for e in await uow.outbox.pending()]
        assert kinds == [EventKind.DRAFT_EXPIRED]


async def test_the_leader_interrupts_a_job_its_dead_launcher_never_claimed(
    tmp_path: Path,
) -> None:
    """A process killed between queueing a job and claiming it leaves the target busy; the
    leader's sweep frees it while leading (not only when it takes over), so the next fire runs."""
    clock = SystemClock()
    async with open_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}") as engine:
        await upgrade(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        executor = JobExecutor(
            uow_factory,
            {},
            lambda spec: None,  # type: ignore[arg-type,return-value]  # never runs a job
            clock,
            unclaimed_after=timedelta(seconds=0.5),
        )
        scheduler = SchedulerService(
            engine,
            uow_factory,
            clock,
            executor,
            grace=timedelta(minutes=10),
            poll_seconds=0.05,
            recover=executor.recover,
        )
        async with scheduler:
            await _until(lambda: scheduler.role == "leader")
            async with uow_factory() as uow:  # as the dead process left it: queued, no worker
                orphan = await uow.jobs.add(
                    NewJob("demo", Origin(OriginKind.USER, "console"), None, "bob", clock.now())
                )
                await uow.commit()

            async def interrupted() -> bool:
                async with uow_factory() as uow:
                    job = await uow.jobs.get(orphan.id)
                    return job is not None and job.state is JobState.INTERRUPTED

            await _until(interrupted)
