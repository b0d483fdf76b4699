"""Daily performance (C6) and the bounds' state, on every backend (tests/contract)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain.model import Bound, JobState
from core.domain.performance import DailyPerformance
from core.ports import UnitOfWorkFactory
from tests.contract.seeds import finished_job, new_job

DAY1 = datetime(2026, 11, 30, tzinfo=UTC)
SINCE, UNTIL = DAY1, DAY1 + timedelta(days=4)
GB = 1_000_000_000


async def seed_days(uow_factory: UnitOfWorkFactory) -> None:
    """`site-a` on days 1 and 3 (none on day 2), `db` (a command: no size) on day 1, and jobs
    that must not count: failed, before the window, at its very end, and still running."""
    for end, seconds, size in (
        (DAY1 + timedelta(hours=1), 60, 2 * GB),
        (DAY1 + timedelta(hours=23, minutes=59, seconds=59), 120, 4 * GB),  # still day 1
        (DAY1 + timedelta(days=2, seconds=1), 600, GB),
    ):
        await finished_job(uow_factory, "site-a", end, seconds, size)
    await finished_job(uow_factory, "db", DAY1 + timedelta(hours=5), 30, None)
    await finished_job(uow_factory, "site-a", DAY1 + timedelta(hours=3), 999, 5, JobState.FAILED)
    await finished_job(uow_factory, "site-a", SINCE - timedelta(seconds=1), 999, 5)
    await finished_job(uow_factory, "site-a", UNTIL, 999, 5)
    async with uow_factory() as uow:
        running = await uow.jobs.add(new_job("site-a", DAY1 + timedelta(hours=2)))
        running.transition(JobState.RUNNING, DAY1 + timedelta(hours=2))
        await uow.jobs.save(running)
        await uow.commit()


def _approx(rows: list[DailyPerformance]) -> list[tuple[str, date, int, float, float | None]]:
    """Seconds to the millisecond: SQLite's date arithmetic works in fractional days."""
    return [(r.target, r.day, r.jobs, round(r.average_seconds, 3), r.average_bytes) for r in rows]


async def test_daily_averages_group_succeeded_jobs_by_target_and_utc_day(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed_days(uow_factory)
    async with uow_factory(read_only=True) as uow:
        rows = list(await uow.performance.daily(SINCE, UNTIL))
    assert _approx(rows) == [
        ("db", date(2026, 11, 30), 1, 30.0, None),
        ("site-a", date(2026, 11, 30), 2, 90.0, 3 * GB),
        ("site-a", date(2026, 12, 2), 1, 600.0, GB),  # no row for the day without jobs
    ]


async def test_daily_averages_keep_to_the_targets_asked_for(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed_days(uow_factory)
    async with uow_factory(read_only=True) as uow:
        only_a = await uow.performance.daily(SINCE, UNTIL, ["site-a"])
        nothing = await uow.performance.daily(SINCE, UNTIL, ["elsewhere"])
        later = await uow.performance.daily(DAY1 + timedelta(days=1), UNTIL, ["site-a", "db"])
    assert [(r.target, r.day) for r in only_a] == [
        ("site-a", date(2026, 11, 30)),
        ("site-a", date(2026, 12, 2)),
    ]
    assert list(nothing) == []
    assert [(r.target, r.day, r.jobs) for r in later] == [("site-a", date(2026, 12, 2), 1)]


async def test_many_days_of_many_targets_come_back_as_one_row_each(
    uow_factory: UnitOfWorkFactory,
) -> None:
    for day in range(12):
        for target in ("a", "b", "c"):
            if (day + len(target)) % 5 == 0:
                continue  # a missing day for each target
            end = DAY1 + timedelta(days=day, hours=6)
            await finished_job(uow_factory, target, end, 60 * (day + 1), (day + 1) * 1000)
    async with uow_factory(read_only=True) as uow:
        rows = await uow.performance.daily(DAY1, DAY1 + timedelta(days=12))
    expected = [
        (t, (DAY1 + timedelta(days=d)).date(), 60.0 * (d + 1), float((d + 1) * 1000))
        for t in ("a", "b", "c")
        for d in range(12)
        if (d + len(t)) % 5 != 0
    ]
    assert [(r.target, r.day, round(r.average_seconds, 3), r.average_bytes) for r in rows] == (
        expected
    )


async def test_a_bound_state_changes_only_from_what_was_read(
    uow_factory: UnitOfWorkFactory,
) -> None:
    crossed = frozenset({Bound.MAX_DURATION, Bound.MIN_SIZE})
    async with uow_factory() as uow:
        assert await uow.performance.outside("site-a") == frozenset()
        assert await uow.performance.set_outside("site-a", frozenset(), crossed, DAY1)
        await uow.commit()
    async with uow_factory() as uow:  # a second judge that read "inside" too loses
        assert not await uow.performance.set_outside(
            "site-a", frozenset(), frozenset({Bound.MAX_SIZE}), DAY1
        )
        assert await uow.performance.outside("site-a") == crossed
        assert await uow.performance.outside("db") == frozenset()  # per target
        assert await uow.performance.set_outside("site-a", crossed, frozenset(), DAY1)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.performance.outside("site-a") == frozenset()
        # Back inside, the row is there with nothing in it: a new crossing sets it again.
        assert await uow.performance.set_outside("site-a", frozenset(), crossed, DAY1)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.performance.outside("site-a") == crossed


@pytest.mark.parametrize("hour", [0, 23])
async def test_a_day_is_the_utc_day_of_the_job_s_end(
    uow_factory: UnitOfWorkFactory, hour: int
) -> None:
    end = DAY1 + timedelta(hours=hour, minutes=59 if hour else 0)
    await finished_job(uow_factory, "site-a", end, 10, 1)
    async with uow_factory(read_only=True) as uow:
        [row] = await uow.performance.daily(SINCE, UNTIL)
    assert row.day == date(2026, 11, 30)
