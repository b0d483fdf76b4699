"""Workers on other hosts (E4) on PostgreSQL: one `serve` (run_jobs = "workers": it only
queues) and two `exportbot worker` processes share 200 jobs over 20 targets. Each job runs
exactly once, never two of a target at once; a worker killed mid-run leaves its job to E1.

Skipped without EXPORTBOT_TEST_PG_URL (workers refuse SQLite)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import HOLD_VARIABLE
from core.clock import SystemClock
from core.domain.model import NewJob, Origin, OriginKind, Principal
from core.errors import Conflict
from storage import SqlUnitOfWorkFactory, open_engine
from tests.e2e.conftest import EXPORTBOT, clean_env
from tests.e2e.test_serve import _free_port, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]  # this checkout's code, in the processes too
TARGETS = [f"t{n:02}" for n in range(20)]
RUNS_PER_TARGET = 10
ALICE = Principal("console", "", "alice")


def _config(workdir: Path, database_url: str) -> Path:
    lines = [
        'admins = ["console:alice"]',
        f'database_url = "{database_url}"',
        'run_jobs = "workers"',
        "worker_poll_seconds = 0.1",
        "worker_parallel_jobs = 10",
        "shutdown_grace_seconds = 2",
    ]
    for name in TARGETS:
        # Each run leaves a line: how many times the target really ran.
        lines += [
            "[[targets]]",
            f'name = "{name}"',
            'kind = "command"',
            f'command = ["sh", "-c", "echo $$ >> {name}.runs; sleep 0.02"]',
            f'workdir = "{workdir}"',
        ]
    lines += [
        "[[targets]]",
        'name = "slow"',
        'kind = "command"',
        'command = ["sh", "-c", "echo $$ > slow.pid; sleep 60"]',
        f'workdir = "{workdir}"',
    ]
    lines += [
        "[[targets]]",
        'name = "short"',
        'kind = "command"',
        'command = ["sleep", "1"]',
    ]
    config = workdir / "workers.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def _start(workdir: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [EXPORTBOT, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=workdir,
        env=clean_env(PYTHONPATH=str(ROOT), **env),
    )


@pytest.fixture
def fleet(
    workdir: Path, pg_database_url: str
) -> Iterator[tuple[str, subprocess.Popen[str], list[subprocess.Popen[str]]]]:
    config = _config(workdir, pg_database_url)
    port = _free_port()
    serve = _start(workdir, "serve", "--config", str(config), "--port", str(port))
    workers: list[subprocess.Popen[str]] = []
    try:
        wait_until_ready(port, serve)  # serve migrated the database first
        workers = [_start(workdir, "worker", "--config", str(config)) for _ in range(2)]
        yield pg_database_url, serve, workers
    finally:
        for process in [*workers, serve]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*workers, serve]:
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


async def _queue_all(factory: SqlUnitOfWorkFactory, deadline: float) -> None:
    """What `run` does in chat, for every target as soon as its last job ended (a target
    takes one active job at a time)."""
    left = dict.fromkeys(TARGETS, RUNS_PER_TARGET)
    clock = SystemClock()
    while left and time.monotonic() < deadline:
        for target in list(left):
            async with factory() as uow:
                try:
                    await uow.jobs.add(
                        NewJob(
                            target, Origin(OriginKind.USER, "console"), ALICE, "alice", clock.now()
                        )
                    )
                except Conflict:
                    continue  # still running: queue its next one later
                await uow.commit()
            left[target] -= 1
            if not left[target]:
                del left[target]
        await asyncio.sleep(0.02)
    assert not left, f"not all queued in time: {left}"


def _pid_in(path: Path) -> int:
    """The pid the slow command writes as it starts (its process group's)."""
    deadline = time.monotonic() + 10
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, "the slow command did not start"
        time.sleep(0.05)
    return int(path.read_text())


async def _rows(engine: AsyncEngine, sql: str) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def _wait_for(engine: AsyncEngine, sql: str, deadline: float) -> list[tuple[object, ...]]:
    while time.monotonic() < deadline:
        rows = await _rows(engine, sql)
        if rows:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing matched in time: {sql}")


async def test_two_workers_run_200_jobs_once_each_never_two_of_a_target_at_once(
    workdir: Path,
    fleet: tuple[str, subprocess.Popen[str], list[subprocess.Popen[str]]],
) -> None:
    database_url, serve, workers = fleet
    deadline = time.monotonic() + 45
    async with open_engine(database_url) as engine:
        factory = SqlUnitOfWorkFactory(engine)
        await _queue_all(factory, deadline)
        total = len(TARGETS) * RUNS_PER_TARGET
        await _wait_for(
            engine,
            f"SELECT 1 FROM jobs WHERE state = 'succeeded' HAVING count(*) = {total}",
            deadline,
        )
        jobs = await _rows(
            engine,
            "SELECT target, state, worker, run_started_at, finished_at FROM jobs ORDER BY id",
        )
    assert Counter(str(row[0]) for row in jobs) == dict.fromkeys(TARGETS, RUNS_PER_TARGET)
    assert {row[1] for row in jobs} == {"succeeded"}
    worker_pids = {str(w.pid) for w in workers}
    claimed_by = {str(row[2]).rpartition(":")[2] for row in jobs}
    assert claimed_by <= worker_pids  # serve ran none: it only queues
    spans: defaultdict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for target, _, _, started, finished in jobs:
        assert isinstance(started, datetime) and isinstance(finished, datetime)
        spans[str(target)].append((started, finished))
    for target, runs in spans.items():
        runs.sort()
        for (_, end), (start, _) in pairwise(runs):
            assert start >= end, f"two runs of {target} at once"
        # Ran exactly once per job: one line per run of the command.
        assert len((workdir / f"{target}.runs").read_text().split()) == RUNS_PER_TARGET
    assert serve.poll() is None and all(w.poll() is None for w in workers)


async def test_a_worker_killed_mid_run_leaves_its_job_interrupted_for_resume(
    workdir: Path,
    fleet: tuple[str, subprocess.Popen[str], list[subprocess.Popen[str]]],
) -> None:
    database_url, _, workers = fleet
    deadline = time.monotonic() + 40
    pid_file = workdir / "slow.pid"
    async with open_engine(database_url) as engine:
        factory = SqlUnitOfWorkFactory(engine)
        async with factory() as uow:
            job = await uow.jobs.add(
                NewJob(
                    "slow", Origin(OriginKind.USER, "console"), ALICE, "alice", SystemClock().now()
                )
            )
            await uow.commit()
        [(owner,)] = await _wait_for(
            engine,
            f"SELECT worker FROM jobs WHERE id = {job.id} AND run_started_at IS NOT NULL",
            deadline,
        )
        pid = _pid_in(pid_file)
        [killed] = [w for w in workers if str(owner).endswith(f":{w.pid}")]
        try:
            killed.send_signal(signal.SIGKILL)
            killed.communicate(timeout=10)
            # The other worker (or serve's scheduler) sees its owner gone within seconds.
            [(error,)] = await _wait_for(
                engine,
                f"SELECT error FROM jobs WHERE id = {job.id} AND state = 'interrupted'",
                deadline,
            )
        finally:  # the command's process group outlives its worker
            os.killpg(pid, signal.SIGKILL)
        assert error == "worker stopped before the job ended"
        # It had started, so nothing relaunched it: a person resumes it from the alert.
        assert await _rows(engine, "SELECT id FROM jobs WHERE target = 'slow'") == [(job.id,)]
        [(payload,)] = await _rows(
            engine, "SELECT payload FROM outbox WHERE kind = 'job.ended' AND target = 'slow'"
        )
    assert "resumed_by" not in str(payload) and "interrupted" in str(payload)


async def _run_and_stop_its_worker(
    workers: list[subprocess.Popen[str]], database_url: str, target: str
) -> tuple[int, str, float]:
    """Queue a job of `target`, SIGTERM the worker that started it: the exit status, the
    job's state, and how long the worker took to stop."""
    deadline = time.monotonic() + 30
    async with open_engine(database_url) as engine:
        factory = SqlUnitOfWorkFactory(engine)
        async with factory() as uow:
            job = await uow.jobs.add(
                NewJob(
                    target, Origin(OriginKind.USER, "console"), ALICE, "alice", SystemClock().now()
                )
            )
            await uow.commit()
        [(owner,)] = await _wait_for(
            engine,
            f"SELECT worker FROM jobs WHERE id = {job.id} AND run_started_at IS NOT NULL",
            deadline,
        )
        [stopped] = [w for w in workers if str(owner).endswith(f":{w.pid}")]
        stopped.send_signal(signal.SIGTERM)
        began = time.monotonic()
        await asyncio.to_thread(stopped.communicate, timeout=20)
        took = time.monotonic() - began
        [(state,)] = await _rows(engine, f"SELECT state FROM jobs WHERE id = {job.id}")
    return stopped.returncode, str(state), took


async def test_sigterm_lets_a_workers_job_end_within_the_grace(
    fleet: tuple[str, subprocess.Popen[str], list[subprocess.Popen[str]]],
) -> None:
    database_url, _, workers = fleet
    code, state, _ = await _run_and_stop_its_worker(workers, database_url, "short")
    assert (code, state) == (0, "succeeded")  # 1 s of work inside a 2 s grace


async def test_sigterm_interrupts_a_workers_job_still_running_after_the_grace(
    fleet: tuple[str, subprocess.Popen[str], list[subprocess.Popen[str]]],
) -> None:
    database_url, _, workers = fleet
    code, state, took = await _run_and_stop_its_worker(workers, database_url, "slow")
    assert (code, state) == (0, "interrupted")
    assert 2 <= took < 15  # the grace, then the runner stops the command


async def test_a_worker_killed_between_claim_and_start_has_its_job_resumed_by_another(
    workdir: Path, pg_database_url: str
) -> None:
    config = _config(workdir, pg_database_url)
    hold = workdir / "hold"
    hold.touch()
    deadline = time.monotonic() + 40
    held = _start(workdir, "worker", "--config", str(config), **{HOLD_VARIABLE: str(hold)})
    other: subprocess.Popen[str] | None = None
    try:
        async with open_engine(pg_database_url) as engine:
            factory = SqlUnitOfWorkFactory(engine)
            await _wait_for(engine, "SELECT 1 FROM pg_tables WHERE tablename = 'jobs'", deadline)
            async with factory() as uow:
                first = await uow.jobs.add(
                    NewJob(
                        "t00",
                        Origin(OriginKind.USER, "console"),
                        ALICE,
                        "alice",
                        SystemClock().now(),
                    )
                )
                await uow.commit()
            await _wait_for(
                engine,
                # "\\:" is a colon to SQLAlchemy's text(), not a bound parameter.
                f"SELECT 1 FROM jobs WHERE id = {first.id} AND worker LIKE '%\\:{held.pid}'"
                " AND run_started_at IS NULL",  # claimed, held before its start
                deadline,
            )
            held.send_signal(signal.SIGKILL)
            held.communicate(timeout=10)
            hold.unlink()
            other = _start(workdir, "worker", "--config", str(config))  # recovers as it starts
            await _wait_for(
                engine, "SELECT 1 FROM jobs WHERE state = 'succeeded' AND target = 't00'", deadline
            )
            jobs = await _rows(
                engine,
                "SELECT id, state, origin_kind, origin_reference FROM jobs ORDER BY id",
            )
    finally:
        for process in (held, other):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=20)
    assert jobs == [
        (first.id, "interrupted", "user", ""),
        (first.id + 1, "succeeded", "auto_resume", str(first.id)),
    ]
    assert len((workdir / "t00.runs").read_text().split()) == 1  # ran once


def _worker_refusal(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXPORTBOT, "worker", *args],
        cwd=workdir,
        env=clean_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_worker_refuses_sqlite_with_a_clear_message(workdir: Path) -> None:
    refused = _worker_refusal(workdir, "--targets", "demo")
    assert refused.returncode == 2
    assert refused.stderr.startswith("exportbot worker needs PostgreSQL")
    assert "Traceback" not in refused.stderr
    assert not (workdir / "var").exists()  # nothing created


def test_a_worker_names_an_unknown_target_and_says_when_none_runs_on_workers(
    workdir: Path,
) -> None:
    unknown = _worker_refusal(workdir, "--targets", "demo,nope")
    assert (unknown.returncode, unknown.stderr) == (2, "Unknown target nope; configured: demo.\n")
    none = _worker_refusal(workdir)
    assert none.returncode == 2
    assert 'set run_jobs = "workers"' in none.stderr
