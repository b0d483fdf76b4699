"""Jobs through the queue of `exportbot worker` (E4): claim, start mark, end, per second.

Each cell queues `--jobs` jobs (each of another target, so none waits for a busy target),
then `workers` executors — each as `exportbot worker` runs it, with its own worker name and
up to `--parallel` jobs at once, and a runner that does nothing — drain the queue
concurrently. What is measured is the queue's own cost per job (four transactions: claim,
start mark, end with its outbox event and audit line), not a job's work. Every job must end
exactly once: the cell says so, or fails. SQLite takes one worker (it is not shared between
hosts); PostgreSQL 1, 2 and 4 (`FOR UPDATE SKIP LOCKED`), in a schema of its own.

    python bench/worker_claims.py [--jobs 1000] [--parallel 4] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import SystemClock
from core.domain.model import (
    NewJob,
    Origin,
    OriginKind,
    TargetKind,
    TargetSpec,
)
from core.jobs.executor import JobExecutor
from core.jobs.runners import CancelToken, ProgressCallback, RunResult
from storage import SqlUnitOfWorkFactory, create_engine, upgrade


class NothingRunner:
    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        return RunResult()


async def drain(executor: JobExecutor, targets: list[str], parallel: int) -> None:
    while True:
        # A poll: the executor offers no event for "a job ended" (its listeners are set once).
        while executor.in_flight() >= parallel:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        if await executor.claim_next(targets) is None:
            await executor.idle()
            if await executor.claim_next(targets) is None:
                await executor.idle()
                return


async def cell(engine: AsyncEngine, jobs: int, workers: int, parallel: int) -> float:
    """Jobs per second with `workers` executors draining `jobs` queued jobs."""
    targets = [f"t{n}" for n in range(jobs)]
    specs = {name: TargetSpec(name, TargetKind.COMMAND, command=("true",)) for name in targets}
    factory = SqlUnitOfWorkFactory(engine)
    clock = SystemClock()
    async with factory() as uow:
        for name in targets:
            await uow.jobs.add(
                NewJob(name, Origin(OriginKind.SCHEDULE), None, "bench", clock.now())
            )
        await uow.commit()
    executors = [
        JobExecutor(
            factory,
            specs,
            lambda _: NothingRunner(),
            clock,
            worker=f"bench-{n}:{os.getpid()}",
            runs_locally=lambda _: False,
        )
        for n in range(workers)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(drain(e, targets, parallel) for e in executors))
    seconds = time.perf_counter() - started
    async with engine.connect() as connection:
        ended = await connection.scalar(
            text(
                "SELECT count(*) FROM jobs WHERE state = 'succeeded' AND run_started_at IS NOT NULL"
            )
        )
        claims = await connection.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'job.running'")
        )
    if (ended, claims) != (jobs, jobs):
        raise SystemExit(f"{jobs} jobs queued, {ended} ended and {claims} claimed: not once each")
    return jobs / seconds


async def sqlite(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'queue.db'}")
        try:
            await upgrade(engine)
            rate = await cell(engine, args.jobs, 1, args.parallel)
        finally:
            await engine.dispose()
    print(f"{'sqlite':>11} {1:>8} {rate:>10.0f}")


async def postgresql(args: argparse.Namespace, workers: int) -> None:
    schema = f"bench_workers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(args.pg_url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(engine)
        rate = await cell(engine, args.jobs, workers, args.parallel)
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
    print(f"{'postgresql':>11} {workers:>8} {rate:>10.0f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--pg-url", default=os.environ.get("EXPORTBOT_TEST_PG_URL", ""))
    args = parser.parse_args()
    print(f"{args.jobs} jobs, up to {args.parallel} at once per worker, a runner doing nothing")
    print(f"{'database':>11} {'workers':>8} {'jobs/s':>10}")
    await sqlite(args)
    if not args.pg_url:
        print("postgresql  skipped: give --pg-url or set EXPORTBOT_TEST_PG_URL")
        return
    for workers in (1, 2, 4):
        await postgresql(args, workers)


if __name__ == "__main__":
    asyncio.run(main())
