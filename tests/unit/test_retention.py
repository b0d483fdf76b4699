"""Retention after a successful job, and its agreement with the draft's prune preview."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.model import JobState, TargetSpec
from core.domain.schedules import ArchiveRecord, Retention, ScheduleSpec, prune_candidates
from core.jobs.executor import JobExecutor
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.conftest import TARGETS, RecordingJobControl, console
from tests.unit.test_execution import ScriptedRunner


def _archives(store: FakeStore, clock: FrozenClock, folder: Path, count: int) -> None:
    for index in range(count):
        path = folder / f"demo-job{index + 1}.tar.gz"
        path.write_bytes(b"x" * 1000)
        store.state.archives.append(
            ArchiveRecord(
                index + 1,
                index + 1,
                "demo",
                str(path),
                1000,
                clock.now() - timedelta(days=count - index),
            )
        )


def test_prune_candidates_never_include_the_newest_archive(clock: FrozenClock) -> None:
    now = clock.now()
    old = [
        ArchiveRecord(i, i, "demo", f"/a/{i}", 1, now - timedelta(days=30 - i)) for i in range(1, 4)
    ]
    assert prune_candidates(old, Retention(keep_days=1), now) == old[:2]
    assert prune_candidates(old, Retention(keep_count=0), now) == old[:2]
    assert prune_candidates(old, Retention(), now) == []
    assert prune_candidates([], Retention(keep_count=1), now) == []


async def test_the_prune_preview_matches_what_retention_then_deletes(
    store: FakeStore, clock: FrozenClock, tmp_path: Path
) -> None:
    _archives(store, clock, tmp_path, 4)
    service = CommandService(store.uow, TARGETS, clock, RecordingJobControl(), platforms=PLATFORMS)
    preview = await service.execute_text(
        'schedule draft demo --cron "0 2 * * *" --tz UTC --keep-days 2', console("alice")
    )
    assert "2 archives (2.0 kB) would be deleted: demo-job1.tar.gz, demo-job2.tar.gz" in (
        preview.text
    )
    await service.execute_text("schedule submit 1", console("alice"))
    await service.execute_text("schedule review 1 approve", console("carol"))

    # The next successful run of demo applies the retention the draft previewed.
    runner = ScriptedRunner("ok")
    executor = JobExecutor(store.uow, TARGETS, lambda spec: runner, clock, worker="host:1")
    await service.execute_text("run demo", console("bob"))
    executor.launch(1)
    await executor.idle()
    assert store.state.jobs[1].state is JobState.SUCCEEDED
    deleted = [a.path.rsplit("/", 1)[-1] for a in store.state.archives if a.deleted_at]
    assert deleted == ["demo-job1.tar.gz", "demo-job2.tar.gz"]
    assert sorted(os.listdir(tmp_path)) == ["demo-job3.tar.gz", "demo-job4.tar.gz"]
    audited = [e.detail for e in store.state.audit if e.action == "archive.deleted"]
    assert len(audited) == 2 and "demo-job1.tar.gz (1000 bytes)" in audited[0]


async def test_without_an_active_schedule_nothing_is_deleted(
    store: FakeStore, clock: FrozenClock, tmp_path: Path
) -> None:
    _archives(store, clock, tmp_path, 3)
    executor = JobExecutor(
        store.uow,
        TARGETS,
        lambda spec: ScriptedRunner("ok"),
        clock,
        worker="host:1",
    )
    service = CommandService(store.uow, TARGETS, clock, executor, platforms=PLATFORMS)
    await service.execute_text("run demo", console("bob"))
    await executor.idle()
    assert all(a.deleted_at is None for a in store.state.archives)
    assert len(os.listdir(tmp_path)) == 3


async def test_the_active_schedules_exclusions_reach_the_runner(
    store: FakeStore, clock: FrozenClock
) -> None:
    seen: list[tuple[str, ...]] = []

    def runner_for(spec: TargetSpec) -> ScriptedRunner:  # records the spec the executor built
        seen.append(spec.exclude)
        return ScriptedRunner("ok")

    async with FakeUnitOfWork(store) as uow:
        await uow.schedules.activate(
            "demo",
            ScheduleSpec("0 2 * * *", "UTC", Retention(), ("*.mp4",)),
            None,
            clock.now(),
            "x",
        )
        await uow.commit()
    targets = {**TARGETS, "demo": replace(TARGETS["demo"], exclude=("node_modules/",))}
    executor = JobExecutor(store.uow, targets, runner_for, clock, worker="host:1")
    service = CommandService(store.uow, targets, clock, executor, platforms=PLATFORMS)
    await service.execute_text("run demo", console("bob"))
    await executor.idle()
    assert seen == [("node_modules/", "*.mp4")]
