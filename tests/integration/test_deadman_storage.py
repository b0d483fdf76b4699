"""The dead-man's switch on real databases: a miss announced before a restart is not
announced again after it, and processes checking at the same moment announce it once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import FrozenClock
from core.domain.model import ExpectedRuns, TargetKind, TargetSpec
from core.jobs.deadman import DeadmanWatch
from storage import SqlUnitOfWorkFactory, create_engine, upgrade
from tests.databases import migrated_engine

START = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
MISSED_AT = datetime(2026, 12, 4, 3, 30, tzinfo=UTC)
TARGETS = {
    "db": TargetSpec(
        "db", TargetKind.REPORTED, expected=ExpectedRuns(cron="0 3 * * *", grace=timedelta(0))
    )
}


async def _missed(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT count(*) FROM outbox WHERE kind = 'run.missed'")
        )
    return int(found or 0)


async def _one_process_life(db: Path, at: datetime) -> int:
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        await upgrade(engine)
        await DeadmanWatch(SqlUnitOfWorkFactory(engine), TARGETS, FrozenClock(at)).check_all()
        return await _missed(engine)
    finally:
        await engine.dispose()


async def test_a_miss_is_not_announced_again_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    assert await _one_process_life(db, START) == 0  # first look: expected from now on
    assert await _one_process_life(db, MISSED_AT) == 1
    for hours in range(1, 6):  # new processes, still missed: nothing more
        assert await _one_process_life(db, MISSED_AT + timedelta(hours=hours)) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_processes_checking_at_once_announce_one_miss(backend: str, tmp_path: Path) -> None:
    async with migrated_engine(backend, tmp_path) as engine:
        first = DeadmanWatch(SqlUnitOfWorkFactory(engine), TARGETS, FrozenClock(START))
        await first.check_all()
        watches = [
            DeadmanWatch(SqlUnitOfWorkFactory(engine), TARGETS, FrozenClock(MISSED_AT))
            for _ in range(6)
        ]
        results = await asyncio.gather(*(w.check_all() for w in watches))
        assert sum(len(changes) for changes in results) == 1
        assert await _missed(engine) == 1
