"""Quotas (B4): incremental usage, thresholds with hysteresis, the `quota` view and recount."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.events import EventKind
from core.domain.model import QuotaPolicy
from core.domain.quotas import adjust_usage, days_until_full, evaluate
from core.domain.schedules import ArchiveRecord
from core.jobs.executor import JobExecutor
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.conftest import TARGETS, RecordingJobControl, console
from tests.unit.test_execution import ScriptedRunner

POLICY = QuotaPolicy(limit_bytes=1000)


async def _set_usage(store: FakeStore, clock: FrozenClock, used: int) -> None:
    async with FakeUnitOfWork(store) as uow:
        current = await uow.quotas.get("demo")
        delta = used - (current.used_bytes if current else 0)
        await adjust_usage(uow, "demo", POLICY, delta, 0, clock.now())
        await uow.commit()


def _threshold_events(store: FakeStore) -> list[int]:
    return [
        e.payload["threshold"] for e in store.state.outbox if e.kind is EventKind.QUOTA_THRESHOLD
    ]


async def test_crossing_a_threshold_alerts_once_and_again_only_after_falling_back(
    store: FakeStore, clock: FrozenClock
) -> None:
    await _set_usage(store, clock, 790)
    assert _threshold_events(store) == []
    await _set_usage(store, clock, 810)  # crosses 80 %
    assert _threshold_events(store) == [80]
    await _set_usage(store, clock, 850)  # stays above: nothing
    await _set_usage(store, clock, 750)  # 75 %: not 10 points below, still disarmed
    await _set_usage(store, clock, 820)
    assert _threshold_events(store) == [80]
    await _set_usage(store, clock, 650)  # 65 %: re-armed
    await _set_usage(store, clock, 805)  # crosses again
    assert _threshold_events(store) == [80, 80]
    event = store.state.outbox[-1]
    assert event.payload == {
        "threshold": 80,
        "percent": 80.5,
        "used_bytes": 805,
        "limit_bytes": 1000,
        "storage": "local",
    }


@pytest.mark.parametrize(
    ("used", "fired", "expected_fired", "announced"),
    [
        (950, frozenset(), {80, 90}, 90),  # a jump announces the highest crossing only
        (1000, frozenset({80, 90}), {80, 90, 100}, 100),
        (790, frozenset({80, 90}), {80}, None),  # 90 re-arms below 80 %, 80 waits for 70 %
        (500, frozenset({80}), set(), None),
    ],
)
def test_evaluate_applies_hysteresis(
    used: int, fired: frozenset[int], expected_fired: set[int], announced: int | None
) -> None:
    assert evaluate(used, 1000, (80, 90, 100), fired) == (frozenset(expected_fired), announced)


def test_days_until_full() -> None:
    assert days_until_full(500, 1000, 100.0) == 5.0
    assert days_until_full(500, 1000, 0.0) is None
    assert days_until_full(1200, 1000, 10.0) == 0.0


def _service(store: FakeStore, clock: FrozenClock, tmp_path: Path) -> CommandService:
    demo = replace(TARGETS["demo"], archive_dir=str(tmp_path), quota=QuotaPolicy(10_000))
    return CommandService(
        store.uow, {**TARGETS, "demo": demo}, clock, RecordingJobControl(), platforms=PLATFORMS
    )


async def test_quota_shows_usage_bar_growth_and_days_until_full(
    store: FakeStore, clock: FrozenClock, tmp_path: Path
) -> None:
    for day in range(3):
        store.state.archives.append(
            ArchiveRecord(
                day + 1, day + 1, "demo", f"/x/{day}", 2_800, clock.now() - timedelta(days=day)
            )
        )
    async with FakeUnitOfWork(store) as uow:
        await adjust_usage(uow, "demo", QuotaPolicy(10_000), 8_400, 3, clock.now())
        await uow.commit()
    reply = await _service(store, clock, tmp_path).execute_text("quota demo", console("bob"))
    text = reply.text
    assert "Quota · demo — above 80 %" in text
    assert "Used: ▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓░░░ 8.4 kB of 10.0 kB (84 %)" in text
    assert "Thresholds: 80 % (crossed), 90 %, 100 %" in text
    assert "Growth: +1.2 kB per day (last 7 days)" in text
    assert "Full in: about 1 day\n" in text
    overview = await _service(store, clock, tmp_path).execute_text("quota", console("bob"))
    assert "demo — above 80 % · ▓" in overview.text
    assert "site-a — no limit set · 0 B in 0 archives" in overview.text


async def test_recount_reconciles_the_counter_with_the_disk(
    store: FakeStore, clock: FrozenClock, tmp_path: Path
) -> None:
    present = tmp_path / "demo-20260301T000000Z-job1.tar.gz"
    present.write_bytes(b"x" * 3000)
    stray = tmp_path / "demo-20260301T010000Z-job9.tar.gz"
    stray.write_bytes(b"y" * 10)
    store.state.archives += [
        ArchiveRecord(1, 1, "demo", str(present), 2000, clock.now()),
        ArchiveRecord(2, 2, "demo", str(tmp_path / "demo-gone-job2.tar.gz"), 500, clock.now()),
    ]
    async with FakeUnitOfWork(store) as uow:
        await adjust_usage(uow, "demo", QuotaPolicy(10_000), 2500, 2, clock.now())
        await uow.commit()
    service = _service(store, clock, tmp_path)
    refused = await service.execute_text("quota demo --recount", console("bob"))
    assert "“manage exports” capability on demo" in refused.text
    reply = await service.execute_text("quota demo --recount", console("alice"))
    assert (
        "Recounted from the disk: 2.5 kB before, 3.0 kB now; 1 recorded archive missing, "
        "1 file not recorded."
    ) in reply.text
    assert "demo-20260301T010000Z-job9.tar.gz" in reply.text
    assert (store.state.quotas["demo"].used_bytes, store.state.quotas["demo"].archive_count) == (
        3000,
        1,
    )
    assert [a.deleted_at is not None for a in store.state.archives] == [False, True]
    assert sorted(os.listdir(tmp_path)) == sorted([present.name, stray.name])  # nothing deleted


async def test_a_successful_job_adds_its_archive_to_the_quota(
    store: FakeStore, clock: FrozenClock
) -> None:
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
    usage = store.state.quotas["demo"]
    assert (usage.used_bytes, usage.archive_count) == (1234, 1)
