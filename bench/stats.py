"""Time to answer `stats` (C6) over a million jobs, on SQLite and on PostgreSQL.

    python bench/stats.py [--jobs 1000000] [--targets 100] [--runs 7]
                          [--databases sqlite,postgresql] [--pg-url URL]

Seeds `--jobs` jobs of `--targets` targets, one job of each target about every ten hours
going back as far as it takes (a million jobs of 100 targets: about eleven years), 4 in 5
succeeded, into a fresh SQLite file and a fresh PostgreSQL schema (--pg-url, else
EXPORTBOT_TEST_PG_URL; PostgreSQL is skipped, and said so, without one). Then, the caches warm,
it times on each database (the median of `--runs`):

- the aggregate alone (`uow.performance.daily`) for every target and for one, 14 days;
- the whole `stats` answer through the command service, as the console asks it: every target
  (words only), one target (words, the chart drawn by matplotlib and its signed link), and one
  target over 366 days, and every target over 366 days (88,000 jobs averaged).

Aim: every answer under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import PLATFORMS
from bot.charts import MatplotlibCharts
from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.capabilities import Role
from core.domain.model import (
    Actor,
    Grant,
    PerformanceBounds,
    Principal,
    TargetKind,
    TargetSpec,
)
from core.domain.performance import day_start, first_day, window_end
from core.jobs.runners.base import Progress
from storage import SqlUnitOfWorkFactory, create_engine, upgrade

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
EVERY = timedelta(hours=10)  # one job of each target this often
AIM_SECONDS = 1.0
COLUMNS = (
    "id", "target", "state", "origin_kind", "origin_platform", "origin_workspace",
    "origin_channel", "origin_reference", "origin_channel_name", "origin_direct", "requester",
    "requester_name", "created_at", "started_at", "finished_at", "size_bytes",
    "cancel_requested",
)  # fmt: skip
ADMIN = Actor(Principal("console", "", "bench"), "bench", channel="console")


def job_rows(jobs: int, targets: int) -> Iterator[tuple[object, ...]]:
    """Newest first from NOW: job n is target n % targets, ending (n // targets) * EVERY ago."""
    for number in range(1, jobs + 1):
        target = number % targets
        ended = NOW - EVERY * (number // targets) - timedelta(minutes=target)
        seconds = 120 + (number * 7919) % 600  # 2 to 12 minutes
        state = "failed" if number % 5 == 0 else "succeeded"
        yield (
            number, f"site-{target}", state, "schedule", "", "", "", "", "", False, None,
            "", ended - timedelta(seconds=seconds + 1), ended - timedelta(seconds=seconds),
            ended, 1_000_000_000 + (number * 104729) % 500_000_000, False,
        )  # fmt: skip


def _moment(at: object) -> object:
    """How SQLAlchemy stores a UTC time on SQLite: naive, with microseconds."""
    if isinstance(at, datetime):
        return at.replace(tzinfo=None).isoformat(" ", "microseconds")
    return at


async def seed_sqlite(path: Path, jobs: int, targets: int) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    with sqlite3.connect(path) as connection:
        marks = ", ".join("?" * len(COLUMNS))
        connection.executemany(
            f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({marks})",
            (tuple(_moment(v) for v in row) for row in job_rows(jobs, targets)),
        )
        connection.execute("ANALYZE")
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return url


async def seed_postgresql(engine: AsyncEngine, jobs: int, targets: int) -> None:
    await upgrade(engine)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        rows = (
            tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row)
            for row in job_rows(jobs, targets)
        )
        batch: list[tuple[object, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 100_000:
                await driver.copy_records_to_table("jobs", records=batch, columns=list(COLUMNS))
                batch = []
        if batch:
            await driver.copy_records_to_table("jobs", records=batch, columns=list(COLUMNS))
        await connection.execute(text("ANALYZE jobs"))
        await connection.commit()


def _targets(count: int) -> dict[str, TargetSpec]:
    bounds = PerformanceBounds(max_avg_seconds=480, min_avg_bytes=1_100_000_000)
    return {
        f"site-{n}": TargetSpec(
            f"site-{n}", TargetKind.COMMAND, command=("true",), performance=bounds
        )
        for n in range(count)
    }


async def _median(runs: int, call: Callable[[], Awaitable[object]]) -> float:
    await call()  # warm: caches, the first connection, matplotlib's fonts
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def measure(engine: AsyncEngine, label: str, targets: int, runs: int) -> list[float]:
    uow_factory = SqlUnitOfWorkFactory(engine)
    specs = _targets(targets)
    clock = FrozenClock(NOW)
    async with uow_factory() as uow:
        await uow.grants.add(Grant(ADMIN.principal, Role.ADMIN, None, "bench", NOW))
        await uow.commit()
    service = CommandService(
        uow_factory,
        specs,
        clock,
        jobs=_NoJobs(),
        platforms=PLATFORMS,
        charts=MatplotlibCharts("https://bot.example.org", b"k" * 32, clock),
    )
    since, until = day_start(first_day(NOW, 14)), window_end(NOW)

    async def aggregate(names: list[str]) -> object:
        async with uow_factory(read_only=True) as uow:
            return await uow.performance.daily(since, until, names)

    async def answer(line: str) -> object:
        reply = await service.execute_text(line, ADMIN)
        assert not reply.error_key, reply.text
        return reply

    every = list(specs)
    cases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("aggregate, every target, 14 days", lambda: aggregate(every)),
        ("aggregate, one target, 14 days", lambda: aggregate(["site-7"])),
        ("stats (every target, words)", lambda: answer("stats")),
        ("stats site-7 (words + chart)", lambda: answer("stats site-7")),
        ("stats site-7 --days 366", lambda: answer("stats site-7 --days 366")),
        ("stats --days 366 (every target)", lambda: answer("stats --days 366")),
    ]
    found = []
    for name, call in cases:
        seconds = await _median(runs, call)
        found.append(seconds)
        print(f"{label:>11}  {name:<36} {seconds * 1000:9.1f} ms")
    return found


class _NoJobs:
    def launch(self, job_id: int) -> None:
        raise AssertionError("stats starts no job")

    def request_cancel(self, job_id: int) -> bool:
        raise AssertionError("stats cancels no job")

    def progress_of(self, job_id: int) -> Progress | None:
        return None  # nothing runs in the bench


async def plan(engine: AsyncEngine, label: str) -> None:
    """Whether the aggregate reads the partial index (and nothing else)."""
    query = (
        "SELECT target, date(finished_at), count(*) FROM jobs WHERE state = 'succeeded'"
        " AND finished_at >= :since AND finished_at < :until AND started_at IS NOT NULL"
        " AND target IN ('site-1', 'site-2') GROUP BY target, date(finished_at)"
    )
    since = day_start(first_day(NOW, 14)).replace(tzinfo=None)
    until = window_end(NOW).replace(tzinfo=None)
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    async with engine.connect() as connection:
        rows = await connection.execute(text(explain + query), {"since": since, "until": until})
        lines = [str(row[-1]) for row in rows]
    uses = any("ix_jobs_performance" in line for line in lines)
    print(f"{label:>11}  plan uses ix_jobs_performance: {'yes' if uses else 'NO'}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("EXPORTBOT_TEST_PG_URL", ""))
    args = parser.parse_args()
    databases = args.databases.split(",")
    print(f"{args.jobs:,} jobs of {args.targets} targets; median of {args.runs} runs")
    slowest = 0.0
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in databases:
            started = time.perf_counter()
            url = await seed_sqlite(Path(folder) / "stats.db", args.jobs, args.targets)
            print(f"{'sqlite':>11}  seeded in {time.perf_counter() - started:.1f} s")
            engine = create_engine(url)
            try:
                await plan(engine, "sqlite")
                slowest = max(slowest, *await measure(engine, "sqlite", args.targets, args.runs))
            finally:
                await engine.dispose()
    if "postgresql" in databases:
        if not args.pg_url:
            print("postgresql  skipped: give --pg-url or set EXPORTBOT_TEST_PG_URL")
        else:
            slowest = max(slowest, await _postgresql(args))
    verdict = "under" if slowest < AIM_SECONDS else "OVER"
    print(f"slowest answer {slowest * 1000:.1f} ms: {verdict} the {AIM_SECONDS:.0f} s aim")


async def _postgresql(args: argparse.Namespace) -> float:
    """In a schema of its own, dropped afterwards."""
    schema = f"bench_stats_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(args.pg_url, connect_args={"server_settings": {"search_path": schema}})
    try:
        started = time.perf_counter()
        await seed_postgresql(engine, args.jobs, args.targets)
        print(f"{'postgresql':>11}  seeded in {time.perf_counter() - started:.1f} s")
        await plan(engine, "postgresql")
        return max(await measure(engine, "postgresql", args.targets, args.runs))
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
