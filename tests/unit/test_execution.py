"""The executor on fakes: transitions, results, cancellation, shutdown and crash recovery."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TypedDict, Unpack

import pytest

from core.clock import FrozenClock
from core.domain.model import Job, JobState, NewJob, Origin, OriginKind, Principal, TargetSpec
from core.jobs.executor import JobExecutor
from core.jobs.runners import CancelToken, ProgressCallback, RunCancelled, RunFailed, RunResult
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.conftest import TARGETS


class ScriptedRunner:
    """Does what the test says: succeed, fail, or block until cancelled."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        self.started = threading.Event()

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        self.started.set()
        if self.outcome == "fail":
            raise RunFailed("exited with status 3: disk full")
        if self.outcome == "leak":
            raise RunFailed("exited with status 1: PGPASSWORD=hunter2pg pg_dump: refused")
        if self.outcome == "block":
            token.wait(10)
            raise RunCancelled()
        return RunResult(
            file_count=7, size_bytes=1234, sha256="ab" * 32, archive_path="/tmp/a/demo.tar.gz"
        )


async def _queue(store: FakeStore, clock: FrozenClock, target: str = "demo") -> int:
    async with FakeUnitOfWork(store) as uow:
        job = await uow.jobs.add(
            NewJob(
                target,
                Origin(OriginKind.USER, "console"),
                Principal("console", "", "bob"),
                "bob",
                clock.now(),
            )
        )
        await uow.commit()
    return job.id


class ExecutorOptions(TypedDict, total=False):
    """The executor's settings these tests change."""

    heartbeat_seconds: float


def _executor(
    store: FakeStore, clock: FrozenClock, runner: ScriptedRunner, **kw: Unpack[ExecutorOptions]
) -> JobExecutor:
    def runner_for(spec: TargetSpec) -> ScriptedRunner:
        return runner

    return JobExecutor(store.uow, TARGETS, runner_for, clock, worker="host:1", **kw)


async def test_a_successful_run_records_its_results_and_transitions(
    store: FakeStore, clock: FrozenClock
) -> None:
    executor = _executor(store, clock, ScriptedRunner("ok"))
    finished = []

    async def listener(job: Job) -> None:
        finished.append(job)

    executor.subscribe(listener)
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    await executor.idle()
    job = store.state.jobs[job_id]
    assert job.state is JobState.SUCCEEDED
    assert (job.file_count, job.size_bytes, job.archive_path) == (7, 1234, "/tmp/a/demo.tar.gz")
    assert job.worker == "host:1" and job.started_at is not None and job.finished_at is not None
    assert [j.id for j in finished] == [job_id]
    assert [e.action for e in store.state.audit] == ["job.running", "job.succeeded"]


async def test_a_failed_run_keeps_the_error_text(store: FakeStore, clock: FrozenClock) -> None:
    executor = _executor(store, clock, ScriptedRunner("fail"))
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    await executor.idle()
    job = store.state.jobs[job_id]
    assert job.state is JobState.FAILED
    assert job.error == "exited with status 3: disk full"


async def test_the_audit_log_keeps_a_failed_jobs_error_only_redacted(
    store: FakeStore, clock: FrozenClock
) -> None:
    executor = _executor(store, clock, ScriptedRunner("leak"))
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    await executor.idle()
    failed = [e for e in store.state.audit if e.action == "job.failed"]
    expected = "exited with status 1: PGPASSWORD=[redacted] pg_dump: refused"
    assert [e.detail for e in failed] == [expected]


async def test_cancel_stops_a_running_job(store: FakeStore, clock: FrozenClock) -> None:
    runner = ScriptedRunner("block")
    executor = _executor(store, clock, runner)
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    while not runner.started.is_set():
        await _tick()
    assert executor.request_cancel(job_id)
    await executor.idle()
    assert store.state.jobs[job_id].state is JobState.CANCELLED


async def test_shutdown_records_a_running_job_as_interrupted(
    store: FakeStore, clock: FrozenClock
) -> None:
    runner = ScriptedRunner("block")
    executor = _executor(store, clock, runner)
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    while not runner.started.is_set():
        await _tick()
    await executor.shutdown(grace_seconds=5)
    assert store.state.jobs[job_id].state is JobState.INTERRUPTED
    executor.launch(await _queue(store, clock, "site-a"))  # closed: nothing starts
    assert store.state.jobs[job_id + 1].state is JobState.QUEUED


async def test_a_remote_cancel_request_is_seen_by_the_heartbeat(
    store: FakeStore, clock: FrozenClock
) -> None:
    runner = ScriptedRunner("block")
    executor = _executor(store, clock, runner, heartbeat_seconds=0.01)
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    while not runner.started.is_set():
        await _tick()
    store.state.jobs[job_id].cancel_requested = True  # as another process's `cancel` would
    await executor.idle()
    assert store.state.jobs[job_id].state is JobState.CANCELLED


@pytest.mark.parametrize(
    ("worker", "age", "interrupted"),
    [
        ("host:999999999", timedelta(seconds=1), True),  # same host, the pid is gone
        ("host:1", timedelta(seconds=1), True),  # our own pid: a previous life of ours
        ("elsewhere:5", timedelta(seconds=10), False),  # another host, fresh heartbeat
        ("elsewhere:5", timedelta(minutes=5), True),  # another host, stale heartbeat
    ],
)
async def test_recovery_interrupts_only_jobs_whose_worker_is_gone(
    store: FakeStore, clock: FrozenClock, worker: str, age: timedelta, interrupted: bool
) -> None:
    job_id = await _queue(store, clock)
    job = store.state.jobs[job_id]
    job.transition(JobState.RUNNING, clock.now())
    job.worker = worker
    clock.advance(age)
    executor = _executor(store, clock, ScriptedRunner("ok"))
    assert (await executor.recover() == [job_id]) is interrupted
    expected = JobState.INTERRUPTED if interrupted else JobState.RUNNING
    assert store.state.jobs[job_id].state is expected


@pytest.mark.parametrize(
    ("age", "interrupted"),
    [
        (timedelta(seconds=2), False),  # its launcher is about to claim it
        (timedelta(seconds=20), True),  # its launcher died between the commit and the claim
    ],
)
async def test_recovery_interrupts_a_queued_job_nobody_claimed(
    store: FakeStore, clock: FrozenClock, age: timedelta, interrupted: bool
) -> None:
    job_id = await _queue(store, clock)
    clock.advance(age)
    executor = _executor(store, clock, ScriptedRunner("ok"))
    assert (await executor.recover() == [job_id]) is interrupted
    expected = JobState.INTERRUPTED if interrupted else JobState.QUEUED
    assert store.state.jobs[job_id].state is expected


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.005)


async def test_an_ending_records_the_archive_and_an_outbox_event(
    store: FakeStore, clock: FrozenClock
) -> None:
    executor = _executor(store, clock, ScriptedRunner("ok"))
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    await executor.idle()
    [archive] = store.state.archives
    assert (archive.job_id, archive.path, archive.size_bytes) == (
        job_id,
        "/tmp/a/demo.tar.gz",
        1234,
    )
    [event] = store.state.outbox
    assert event.kind.value == "job.ended"
    assert event.payload == {
        "job": job_id,
        "state": "succeeded",
        "requester": "console:bob",
        "origin": "user",
        "direct": False,
        "error": None,
    }


async def test_a_failed_ending_writes_an_event_but_no_archive(
    store: FakeStore, clock: FrozenClock
) -> None:
    executor = _executor(store, clock, ScriptedRunner("fail"))
    job_id = await _queue(store, clock)
    executor.launch(job_id)
    await executor.idle()
    assert store.state.archives == []
    assert store.state.outbox[0].payload["state"] == "failed"
