"""A performance bound crossed before a restart is not announced again after it (C6): which
bounds are outside is kept in the database, not in the process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from core.clock import FrozenClock
from core.domain.model import PerformanceBounds, TargetKind, TargetSpec
from core.jobs.performance_watch import PerformanceWatch
from storage import SqlUnitOfWorkFactory, create_engine, upgrade
from tests.contract.seeds import finished_job

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SPEC = TargetSpec(
    "demo", TargetKind.COMMAND, command=("true",), performance=PerformanceBounds(max_avg_seconds=60)
)


async def _judge_once(db: Path, clock: FrozenClock, seconds: float) -> int:
    """One process's life: a job, its judgement; the performance events written so far."""
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        await upgrade(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        clock.advance(timedelta(minutes=10))
        job = await finished_job(uow_factory, "demo", clock.now(), seconds, None)
        await PerformanceWatch(uow_factory, {"demo": SPEC}, clock).check("demo", job)
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT count(*) FROM outbox WHERE kind = 'performance.bound'")
            )
        return int(found or 0)
    finally:
        await engine.dispose()


async def test_a_crossing_is_not_announced_again_after_a_restart(tmp_path: Path) -> None:
    db, clock = tmp_path / "bot.db", FrozenClock(NOW)
    assert await _judge_once(db, clock, 600) == 1
    assert await _judge_once(db, clock, 600) == 1  # a new process: still outside, no repeat
    assert await _judge_once(db, clock, 1) == 1  # average still 400 s: outside
    for _ in range(20):
        await _judge_once(db, clock, 1)  # back inside, in yet other processes
    assert await _judge_once(db, clock, 60 * 60 * 5) == 2  # out again: announced again
