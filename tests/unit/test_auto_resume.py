"""Auto-resume (E1) and claims by workers (E4) in the executor, on fakes: a job that never
started is relaunched, linked to its first attempt and bounded; one that started is left
interrupted with a Resume button; a worker's jobs are never run by `serve`."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from core.clock import FrozenClock
from core.domain.model import Job, JobState, NewJob, Origin, OriginKind, Principal, TargetSpec
from core.domain.subscriptions import AlertKind, Severity, classify
from core.i18n import Translator
from core.jobs.executor import JobExecutor
from core.jobs.runners import CancelToken, ProgressCallback, RunCancelled, RunResult
from core.views.alerts import AlertSettings, alert_message
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.conftest import TARGETS

DEAD = "host:999999999"  # a pid no process has: its owner is gone


class CountingRunner:
    """Counts its runs; each one succeeds, unless told to wait for its token."""

    def __init__(self, *, until_cancelled: bool = False, seconds: float = 0.0) -> None:
        self.runs: list[int] = []
        self.started = threading.Event()
        self._until_cancelled = until_cancelled
        self._seconds = seconds

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        self.runs.append(job_id)
        self.started.set()
        if self._until_cancelled:
            token.wait(10)
        elif self._seconds:
            token.wait(self._seconds)
        if token.cancelled:
            raise RunCancelled(token.reason)
        return RunResult()


def _executor(
    store: FakeStore,
    clock: FrozenClock,
    runner: CountingRunner,
    *,
    worker: str = "host:1",
    local: bool = True,
    **options: object,
) -> JobExecutor:
    def runner_for(spec: TargetSpec) -> CountingRunner:
        return runner

    return JobExecutor(
        store.uow,
        TARGETS,
        runner_for,
        clock,
        worker=worker,
        runs_locally=lambda _: local,
        **options,  # type: ignore[arg-type]
    )


async def _queue(store: FakeStore, clock: FrozenClock, target: str = "demo") -> int:
    async with FakeUnitOfWork(store) as uow:
        job = await uow.jobs.add(
            NewJob(
                target,
                Origin(OriginKind.USER, "slack", "T1", "C1"),
                Principal("slack", "T1", "U1"),
                "bob",
                clock.now(),
            )
        )
        await uow.commit()
    return job.id


def _claimed_by_a_dead_worker(store: FakeStore, clock: FrozenClock, job_id: int) -> Job:
    job = store.state.jobs[job_id]
    job.transition(JobState.RUNNING, clock.now())
    job.worker = DEAD
    return job


async def test_a_job_claimed_but_not_started_is_relaunched_once_linked_to_the_first(
    store: FakeStore, clock: FrozenClock
) -> None:
    first = await _queue(store, clock)
    _claimed_by_a_dead_worker(store, clock, first)
    runner = CountingRunner()
    executor = _executor(store, clock, runner)
    assert await executor.recover() == [first]
    await executor.idle()
    assert store.state.jobs[first].state is JobState.INTERRUPTED
    [resume] = [j for j in store.state.jobs.values() if j.id != first]
    assert resume.origin.kind is OriginKind.AUTO_RESUME
    assert resume.origin.reference == str(first)  # the link to the first attempt
    assert (resume.origin.channel, resume.requester) == ("C1", Principal("slack", "T1", "U1"))
    assert resume.state is JobState.SUCCEEDED and resume.run_started_at is not None
    assert runner.runs == [resume.id]
    interrupted = store.state.outbox[0]
    assert interrupted.payload["resumed_by"] == resume.id
    assert classify(interrupted) is None  # no "interrupted" alert: it is already running again
    assert classify(store.state.outbox[1]) == (AlertKind.RESUMED, Severity.INFO)
    assert "job.auto_resumed" in [e.action for e in store.state.audit]
    assert await executor.recover() == []  # nothing more to recover: relaunched once


async def test_a_job_that_had_started_is_interrupted_with_a_resume_button(
    store: FakeStore, clock: FrozenClock
) -> None:
    job_id = await _queue(store, clock)
    job = _claimed_by_a_dead_worker(store, clock, job_id)
    job.run_started_at = clock.now()
    executor = _executor(store, clock, CountingRunner())
    assert await executor.recover() == [job_id]
    assert [j.id for j in store.state.jobs.values()] == [job_id]  # not relaunched
    [event] = store.state.outbox
    assert "resumed_by" not in event.payload
    assert classify(event) == (AlertKind.INTERRUPTED, Severity.WARNING)
    settings = AlertSettings("https://bot.example.org", b"k")
    for locale, label in (("en", "Resume"), ("fr", "Reprendre")):
        message = alert_message(
            Translator(locale),
            event,
            AlertKind.INTERRUPTED,
            Severity.WARNING,
            settings,
            clock.now(),
            store.state.jobs[job_id],
        )
        first_button = message.actions[0]
        assert (first_button.label, first_button.name) == (label, "job.retry")
        assert str(job_id) in first_button.accessibility_label


async def test_resumes_stop_after_the_configured_attempts(
    store: FakeStore, clock: FrozenClock
) -> None:
    first = await _queue(store, clock)
    _claimed_by_a_dead_worker(store, clock, first)
    # Jobs of this executor wait for a worker, so each resume stays queued for the test to
    # "claim" with a dead worker again.
    executor = _executor(store, clock, CountingRunner(), local=False, auto_resume_attempts=2)
    for _ in range(4):
        await executor.recover()
        await executor.idle()  # its launch leaves the resume queued (and watched)
        for job in store.state.jobs.values():
            if job.state is JobState.QUEUED:
                _claimed_by_a_dead_worker(store, clock, job.id)
    resumes = [j for j in store.state.jobs.values() if j.origin.kind is OriginKind.AUTO_RESUME]
    assert [j.origin.reference for j in resumes] == [str(first), str(first)]
    assert all(j.state is JobState.INTERRUPTED for j in store.state.jobs.values())
    last = store.state.outbox[-1]  # the one not resumed is alerted on
    assert classify(last) == (AlertKind.INTERRUPTED, Severity.WARNING)
    await executor.shutdown()


async def test_a_claim_recovered_before_its_start_does_not_run(
    store: FakeStore, clock: FrozenClock
) -> None:
    """The worker was only slow (a lease expired): another process relaunched its job, so
    its start is refused and the target never runs twice."""
    job_id = await _queue(store, clock)
    runner = CountingRunner()
    other = _executor(store, clock, CountingRunner(), worker="elsewhere:5", local=False)

    async def lease_expires() -> None:
        clock.advance(timedelta(minutes=5))
        await other.recover()

    slow = _executor(store, clock, runner, local=False, hold_before_start=lease_expires)
    assert await slow.claim_next(["demo"]) == job_id
    await slow.idle()
    assert runner.runs == []
    assert store.state.jobs[job_id].state is JobState.INTERRUPTED
    resume = store.state.jobs[job_id + 1]
    assert (resume.state, resume.origin.kind) == (JobState.QUEUED, OriginKind.AUTO_RESUME)
    await other.shutdown()


async def test_a_workers_target_is_left_queued_by_serve_and_run_by_the_worker(
    store: FakeStore, clock: FrozenClock
) -> None:
    job_id = await _queue(store, clock)
    serve_runner, worker_runner = CountingRunner(), CountingRunner()
    serve = _executor(store, clock, serve_runner, local=False, remote_poll_seconds=0.01)
    heard: list[Job] = []

    async def chat_redraws(job: Job) -> None:
        heard.append(job)

    serve.subscribe(chat_redraws)
    serve.launch(job_id)
    await serve.idle()
    clock.advance(timedelta(hours=1))  # queued for long: waiting for a worker is no orphan
    assert await serve.recover() == []
    assert store.state.jobs[job_id].state is JobState.QUEUED
    worker = _executor(store, clock, worker_runner, worker="w:2", local=False)
    assert await worker.claim_next(["site-a"]) is None  # not its target
    assert await worker.claim_next(["demo", "site-a"]) == job_id
    await worker.idle()
    assert (serve_runner.runs, worker_runner.runs) == ([], [job_id])
    done = store.state.jobs[job_id]
    assert (done.state, done.worker) == (JobState.SUCCEEDED, "w:2")
    assert [e.action for e in store.state.audit][-2:] == ["job.running", "job.succeeded"]
    for _ in range(200):  # serve learns of the end by polling: its chat redraws the card
        if heard:
            break
        await asyncio.sleep(0.01)
    assert [(j.id, j.state) for j in heard] == [(job_id, JobState.SUCCEEDED)]
    await serve.shutdown()


async def test_a_worker_lets_its_job_finish_within_the_grace_at_shutdown(
    store: FakeStore, clock: FrozenClock
) -> None:
    job_id = await _queue(store, clock)
    runner = CountingRunner(seconds=0.2)
    worker = _executor(store, clock, runner, local=False, finish_at_shutdown=True)
    await worker.claim_next(["demo"])
    await asyncio.sleep(0.05)
    await worker.shutdown(grace_seconds=5)
    assert store.state.jobs[job_id].state is JobState.SUCCEEDED
    assert await worker.claim_next(["demo"]) is None  # no claim after shutdown


async def test_a_worker_interrupts_a_job_still_running_after_the_grace(
    store: FakeStore, clock: FrozenClock
) -> None:
    job_id = await _queue(store, clock)
    worker = _executor(
        store, clock, CountingRunner(until_cancelled=True), local=False, finish_at_shutdown=True
    )
    await worker.claim_next(["demo"])
    await asyncio.sleep(0.05)
    await worker.shutdown(grace_seconds=0.1)
    assert store.state.jobs[job_id].state is JobState.INTERRUPTED


async def test_a_worker_whose_job_was_recovered_elsewhere_stops_running_it(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Its lease expired (a network partition) and another process recorded the job as
    interrupted: the heartbeat sees it and stops the runner, so a resume cannot overlap."""
    job_id = await _queue(store, clock)
    runner = CountingRunner(until_cancelled=True)
    worker = _executor(store, clock, runner, local=False, heartbeat_seconds=0.01)
    await worker.claim_next(["demo"])
    await asyncio.to_thread(runner.started.wait, 5)
    store.state.jobs[job_id].transition(JobState.INTERRUPTED, clock.now())  # by another process
    await asyncio.wait_for(worker.idle(), timeout=5)
    assert store.state.jobs[job_id].state is JobState.INTERRUPTED
    assert store.state.outbox == []  # its end was recorded by the one that recovered it
