"""The scheduler's leader runs the dead-man's switch at every poll, and never starts a run of
a reported target from its schedule (its runs start elsewhere; the schedule only says when)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.scheduler import SchedulerService
from core.clock import FrozenClock
from core.domain.deadman import Watch, WatchState
from core.domain.events import EventKind
from core.domain.model import ExpectedRuns, TargetKind, TargetSpec
from core.domain.schedules import ScheduleSpec
from core.jobs.deadman import DeadmanWatch
from storage import SqlUnitOfWorkFactory, open_engine, upgrade
from tests.unit.conftest import RecordingJobControl

START = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
TARGETS = {
    "db": TargetSpec(
        "db", TargetKind.REPORTED, expected=ExpectedRuns(cron="0 3 * * *", grace=timedelta(0))
    )
}


async def test_the_leader_judges_reported_targets_and_never_fires_their_schedule(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(START)
    async with open_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}") as engine:
        await upgrade(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        async with uow_factory() as uow:  # watched since START, scheduled daily at 02:00
            await uow.watches.replace("db", None, WatchState(Watch.OK, START))
            await uow.schedules.activate("db", ScheduleSpec("0 2 * * *", "UTC"), None, START, "x")
            await uow.commit()
        clock.advance(timedelta(days=1, hours=1, minutes=5))  # 02:05 the next day
        jobs = RecordingJobControl()
        scheduler = SchedulerService(
            engine,
            uow_factory,
            clock,
            jobs,
            grace=timedelta(minutes=10),  # 02:00 is within it: any other target would run now
            poll_seconds=0.05,
            watch=DeadmanWatch(uow_factory, TARGETS, clock).check_all,
            unfired=frozenset({"db"}),
        )
        async with scheduler:
            for _ in range(250):
                async with uow_factory() as uow:
                    kinds = [e.kind for e in await uow.outbox.pending()]
                if kinds:
                    break
                await asyncio.sleep(0.02)
            assert scheduler._aps is not None and scheduler._aps.get_jobs() == []
        assert kinds == [EventKind.RUN_MISSED]  # the switch's, judged on the approved 02:00
        async with uow_factory() as uow:
            assert await uow.jobs.recent() == []
            [event] = await uow.outbox.pending()
        assert event.payload["fire_time"] == "2026-12-04T02:00:00+00:00"
        assert event.payload["reported"] is True
        assert jobs.launched == []
