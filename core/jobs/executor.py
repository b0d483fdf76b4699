"""Runs queued jobs in worker threads and records every transition (B1, E3).

One `JobExecutor` per process. A job is claimed (queued → running) in its own transaction,
run off the event loop with a cancel token, and finished in another transaction. A heartbeat
keeps `heartbeat_at` fresh and picks up cancel requests made by other processes.

The runner's start is confirmed apart from the claim (`run_started_at`, E1): `recover()` marks
a job whose worker died as interrupted, and relaunches it at once (origin `auto_resume`, up to
`auto_resume_attempts` per first attempt) when it had not started, since nothing of it ran.
Jobs of targets that run on workers (E4) are claimed by `claim_next` in `exportbot worker`;
`launch` leaves them queued for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from core.domain.audit import audit_entry
from core.domain.events import job_ended_event
from core.domain.model import (
    ACTIVE_STATES,
    SYSTEM_ACTOR,
    Job,
    JobState,
    NewJob,
    OriginKind,
    Outcome,
    TargetSpec,
)
from core.domain.quotas import adjust_usage
from core.domain.schedules import ArchiveRecord
from core.jobs.retention import apply_retention, remove_files
from core.jobs.runners import CancelToken, Progress, RunCancelled, RunFailed, Runner, RunResult
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory
from core.safety.redaction import redact
from core.support.lifecycle import Lifecycle
from core.support.log_context import bind, detached
from core.support.telemetry import NO_TELEMETRY, Telemetry

log = logging.getLogger(__name__)

RunnerFactory = Callable[[TargetSpec], Runner]
JobListener = Callable[[Job], Awaitable[None]]

SHUTDOWN = "shutdown"
STOP_SECONDS = 10.0  # a worker's job asked to stop after its grace: time for the runner to stop
LOST_CLAIM = "lost its claim before it started"  # recovered meanwhile: another run took over


def this_worker() -> str:
    """`host:pid` — enough to tell, on restart, whether the owner of a job is still alive."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_is_dead(worker: str, own: str) -> bool:
    host, _, pid = worker.rpartition(":")
    own_host, _, own_pid = own.rpartition(":")
    if host != own_host or not pid.isdigit():
        return False  # another machine: only a stale heartbeat can tell
    if pid == own_pid:
        return True  # our pid, but we have just started: the old owner is gone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobExecutor(Lifecycle):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        targets: Mapping[str, TargetSpec],
        runner_for: RunnerFactory,
        clock: Clock,
        *,
        worker: str | None = None,
        heartbeat_seconds: float = 5.0,
        stale_after: timedelta = timedelta(minutes=2),
        unclaimed_after: timedelta = timedelta(seconds=15),
        grace_seconds: float = 10.0,
        telemetry: Telemetry = NO_TELEMETRY,
        runs_locally: Callable[[str], bool] = lambda _: True,
        auto_resume_attempts: int = 2,
        finish_at_shutdown: bool = False,
        hold_before_start: Callable[[], Awaitable[None]] | None = None,
        remote_poll_seconds: float = 2.0,
    ) -> None:
        """As a context manager it recovers orphaned jobs on entry and shuts down on exit,
        giving running jobs `grace_seconds` to stop. Each job's end is counted in `telemetry`.

        `runs_locally(target)`: whether `launch` runs the target's jobs in this process; the
        others wait in the queue for a worker. `finish_at_shutdown` (workers): running jobs
        get the grace to end before they are stopped. `hold_before_start` is awaited between
        a claim and the runner's start (the tests' window to kill a process there)."""
        self._uow_factory = uow_factory
        self._targets = targets
        self._runner_for = runner_for
        self._clock = clock
        self.worker = worker or this_worker()
        self._heartbeat_seconds = heartbeat_seconds
        self._stale_after = stale_after
        self._unclaimed_after = unclaimed_after
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._watching: dict[int, asyncio.Task[None]] = {}  # launched here, run by a worker
        self._tokens: dict[int, CancelToken] = {}
        self._progress: dict[int, Progress] = {}
        self._grace_seconds = grace_seconds
        self._job_ended: tuple[JobListener, ...] | None = None
        self._closing = False
        self._telemetry = telemetry
        self._runs_locally = runs_locally
        self._auto_resume_attempts = auto_resume_attempts
        self._finish_at_shutdown = finish_at_shutdown
        self._hold_before_start = hold_before_start
        self._remote_poll_seconds = remote_poll_seconds

    def subscribe(self, *listeners: JobListener) -> None:
        """Who hears of each job's end, called in this order (one failing does not stop the
        rest). Set once, by the composition root, which says why the order is what it is."""
        if self._job_ended is not None:
            raise RuntimeError("the job-ended subscribers are already set")
        self._job_ended = listeners

    # -- JobControl (called by handlers after their commit) -------------------------------

    def launch(self, job_id: int) -> None:
        if self._closing or job_id in self._tasks:
            return
        # The job's log lines name the job, not the request that launched it (whose fields
        # the task would otherwise copy).
        task = asyncio.get_running_loop().create_task(
            self._run(job_id), name=f"job-{job_id}", context=detached()
        )
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    def request_cancel(self, job_id: int) -> bool:
        """Stop a job running here; False when it runs elsewhere (its heartbeat sees the flag)."""
        token = self._tokens.get(job_id)
        if token is None:
            return False
        token.cancel("cancelled")
        return True

    def progress_of(self, job_id: int) -> Progress | None:
        return self._progress.get(job_id)

    def running(self) -> list[int]:
        """Ids of the jobs whose runner works in this process now. A job leaves this list
        before its end is recorded, so nothing reads it as running once it has ended."""
        return list(self._tokens)

    def in_flight(self) -> int:
        """Jobs launched or claimed here and not yet ended (a worker's measure of its load)."""
        return len(self._tasks)

    async def idle(self) -> None:
        """Wait until no job launched here is still running."""
        while self._tasks:
            # `wait`, not `gather`: cancelling the waiter must not cancel the jobs themselves.
            await asyncio.wait(list(self._tasks.values()))

    # -- lifecycle -------------------------------------------------------------------------

    async def _start(self) -> None:
        await self.recover()

    async def _stop(self) -> None:
        await self.shutdown(self._grace_seconds)

    async def recover(self) -> list[int]:
        """Mark as interrupted the active jobs whose worker is gone (killed, crashed, its lease
        expired), and relaunch those that had not started (E1). Returns the interrupted ids."""
        now = self._clock.now()
        interrupted: list[Job] = []
        relaunched: list[Job] = []
        async with self._uow_factory() as uow:
            for job in await uow.jobs.in_states(ACTIVE_STATES):
                if job.id in self._tasks or not self._orphaned(job, now):
                    continue
                if job.origin.kind is OriginKind.API:
                    continue  # runs elsewhere, told through the job-event API: not ours to end
                unstarted = job.run_started_at is None
                reason = (
                    "stopped before its run started"
                    if unstarted
                    else "worker stopped before the job ended"
                )
                ended = await uow.jobs.interrupt_orphan(job, now, reason)
                if ended is None:
                    continue  # another process recovered it first
                resume = await self._resume(uow, ended, now) if unstarted else None
                resumed_by = resume.id if resume is not None else None
                await uow.outbox.add(job_ended_event(ended, resumed_by=resumed_by))
                await uow.audit.append(
                    audit_entry(
                        SYSTEM_ACTOR,
                        self._clock,
                        "job.interrupted",
                        Outcome.OK,
                        ended.target,
                        ended.id,
                        f"worker {job.worker or '—'} is gone"
                        + (f"; resumed as #{resumed_by}" if resumed_by else ""),
                    )
                )
                interrupted.append(ended)
                if resume is not None:
                    relaunched.append(resume)
            await uow.commit()
        for job in interrupted:
            self._telemetry.job_ended(job.target, "interrupted", None, None)
        if interrupted:
            log.warning(
                "marked interrupted after their worker stopped: %s", [j.id for j in interrupted]
            )
        for job in relaunched:
            log.warning("job #%s resumes #%s", job.id, job.origin.reference)
            self.launch(job.id)  # run here, or watched here while a worker runs it
        return [job.id for job in interrupted]

    async def _resume(self, uow: UnitOfWork, job: Job, now: datetime) -> Job | None:
        """Queue the relaunch of a job that never started, linked to the first attempt; none
        once that attempt has been resumed `auto_resume_attempts` times."""
        first = job.origin.reference if job.origin.kind is OriginKind.AUTO_RESUME else str(job.id)
        if (
            not first.isdigit()
            or await uow.jobs.resumes_of(int(first)) >= self._auto_resume_attempts
        ):
            return None
        origin = replace(job.origin, kind=OriginKind.AUTO_RESUME, reference=first)
        # The interrupted job is no longer active, so the target takes this one (never two).
        resume = await uow.jobs.add(
            NewJob(job.target, origin, job.requester, job.requester_name, now)
        )
        await uow.audit.append(
            audit_entry(
                SYSTEM_ACTOR,
                self._clock,
                "job.auto_resumed",
                Outcome.OK,
                job.target,
                resume.id,
                f"resumes #{first} after #{job.id} stopped before it started",
            )
        )
        return resume

    def _orphaned(self, job: Job, now: datetime) -> bool:
        if job.worker is None:
            if not self._runs_locally(job.target):
                return False  # waits for a worker to claim it, however long that takes
            # Queued, never claimed: its launcher claims it within milliseconds of the commit,
            # so one this old lost its launcher (killed between the two, or its claim failed).
            return now - job.created_at >= self._unclaimed_after
        if _worker_is_dead(job.worker, self.worker):
            return True
        return now - (job.heartbeat_at or job.created_at) >= self._stale_after

    async def shutdown(self, grace_seconds: float = 10.0) -> None:
        """Stop accepting jobs, ask running ones to stop, and record them as interrupted.
        With `finish_at_shutdown` (a worker), they first get the grace to end on their own."""
        self._closing = True
        for watch in self._watching.values():
            watch.cancel()
        if self._finish_at_shutdown and self._tasks:
            _, still = await asyncio.wait(list(self._tasks.values()), timeout=grace_seconds)
            grace_seconds = STOP_SECONDS if still else 0
        for token in self._tokens.values():
            token.cancel(SHUTDOWN)
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # -- one job ---------------------------------------------------------------------------

    async def claim_next(self, targets: Collection[str]) -> int | None:
        """Claim the oldest queued job of `targets` (a worker, E4) and run it here; its id, or
        None when none waits."""
        if self._closing:
            return None
        async with self._uow_factory() as uow:
            job = await uow.jobs.claim_next(targets, self.worker, self._clock.now())
            if job is None:
                return None
            excludes = await self._claimed(uow, job)
            await uow.commit()
        task = asyncio.get_running_loop().create_task(
            self._run(job.id, (job, excludes)), name=f"job-{job.id}", context=detached()
        )
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))
        return job.id

    async def _run(self, job_id: int, claimed: tuple[Job, tuple[str, ...]] | None = None) -> None:
        bind(job_id=job_id)  # this task's own context (see `launch`), and its runner thread's
        claimed = claimed or await self._claim(job_id)
        if claimed is None:
            return
        job, schedule_excludes = claimed
        bind(target=job.target)
        if not await self._confirm_start(job_id):
            log.warning("job #%s %s", job_id, LOST_CLAIM)
            return
        log.info("job #%s of %s started", job_id, job.target)
        token = CancelToken()
        self._tokens[job_id] = token
        heartbeat = asyncio.create_task(self._heartbeat(job_id, token))
        state, result, error = JobState.FAILED, RunResult(), ""
        try:
            spec = self._targets[job.target]
            # The active schedule's exclusions add to the configured ones.
            spec = replace(spec, exclude=spec.exclude + schedule_excludes)
            runner = self._runner_for(spec)
            result = await asyncio.to_thread(runner.run, job_id, token, self._progress_sink(job_id))
            state = JobState.SUCCEEDED
        except RunCancelled:
            state = JobState.INTERRUPTED if token.reason == SHUTDOWN else JobState.CANCELLED
        except RunFailed as failure:
            error = failure.detail
        except asyncio.CancelledError:
            # Shutdown ran out of grace: the thread may still finish, but we record the truth.
            token.cancel(SHUTDOWN)
            state, error = JobState.INTERRUPTED, "stopped at shutdown"
        except Exception as unexpected:  # a runner bug must not leave the job running forever
            log.exception("job #%s crashed", job_id)
            error = f"internal error: {type(unexpected).__name__}"
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            self._tokens.pop(job_id, None)
            self._progress.pop(job_id, None)
        finished, pruned = await self._finish(job_id, state, result, error)
        if pruned:
            await asyncio.to_thread(remove_files, pruned)
        if finished is not None:
            self._record_end(finished)
            await self._announce(finished)

    async def ended_elsewhere(self, job: Job) -> None:
        """A job that ran outside (reported through the API) has ended: counted, and told to
        the same listeners as a job run here, in the same order."""
        self._record_end(job)
        await self._announce(job)

    async def _announce(self, job: Job) -> None:
        for listener in self._job_ended or ():
            try:
                await listener(job)
            except Exception:  # one listener's failure must not hide the others
                log.exception("job listener failed for #%s", job.id)

    def _watch(self, job_id: int) -> None:
        """A job queued here that a worker runs (E4): this process's listeners hear of its end
        too (the chat that asked redraws its card), polled since another process records it."""
        if job_id in self._watching or self._closing:
            return
        task = asyncio.get_running_loop().create_task(
            self._await_remote_end(job_id), name=f"watch-{job_id}", context=detached()
        )
        self._watching[job_id] = task
        task.add_done_callback(lambda _: self._watching.pop(job_id, None))

    async def _await_remote_end(self, job_id: int) -> None:
        while True:
            await asyncio.sleep(self._remote_poll_seconds)
            try:
                async with self._uow_factory(read_only=True) as uow:
                    job = await uow.jobs.get(job_id)
            except Exception:  # the database may be restarting: look again at the next poll
                log.exception("reading job #%s failed", job_id)
                continue
            if job is None:
                return
            if job.state.is_terminal:
                await self._announce(job)
                return

    def _record_end(self, job: Job) -> None:
        duration = job.duration
        seconds = duration.total_seconds() if duration is not None else None
        log.info(
            "job #%s of %s %s%s",
            job.id,
            job.target,
            job.state.value,
            f" after {seconds:.1f} s" if seconds is not None else "",
        )
        self._telemetry.job_ended(job.target, job.state.value, seconds, job.size_bytes)

    async def _confirm_start(self, job_id: int) -> bool:
        """The start mark (E1), set only while the claim is still ours: a job recovered and
        relaunched meanwhile must not run a second time."""
        if self._hold_before_start is not None:
            await self._hold_before_start()
        async with self._uow_factory() as uow:
            confirmed = await uow.jobs.confirm_start(job_id, self.worker, self._clock.now())
            await uow.commit()
        return confirmed

    async def _claim(self, job_id: int) -> tuple[Job, tuple[str, ...]] | None:
        async with self._uow_factory() as uow:
            job = await uow.jobs.get(job_id)
            if job is None or job.state is not JobState.QUEUED:
                return None
            if not self._runs_locally(job.target):
                self._watch(job_id)  # a worker claims it (E4)
                return None
            job.transition(JobState.RUNNING, self._clock.now())
            job.worker = self.worker
            await uow.jobs.save(job)
            excludes = await self._claimed(uow, job)
            await uow.commit()
            return job, excludes

    async def _claimed(self, uow: UnitOfWork, job: Job) -> tuple[str, ...]:
        """Audit a claim; the active schedule's exclusions, which add to the configured ones."""
        schedule = await uow.schedules.active(job.target)
        await uow.audit.append(
            audit_entry(
                SYSTEM_ACTOR,
                self._clock,
                "job.running",
                Outcome.OK,
                job.target,
                job.id,
                self.worker,
            )
        )
        return schedule.spec.exclude if schedule else ()

    async def _finish(
        self, job_id: int, state: JobState, result: RunResult, error: str
    ) -> tuple[Job | None, list[ArchiveRecord]]:
        async with self._uow_factory() as uow:
            job = await uow.jobs.get(job_id)
            if job is None or job.state is not JobState.RUNNING:
                return None, []
            job.transition(state, self._clock.now())
            job.file_count = result.file_count
            job.size_bytes = result.size_bytes
            job.sha256 = result.sha256
            job.archive_path = result.archive_path
            job.error = redact(error) or None  # G3: never store what could leak
            await uow.jobs.save(job)
            pruned: list[ArchiveRecord] = []
            if result.archive_path is not None and result.size_bytes is not None:
                finished_at = job.finished_at or self._clock.now()
                await uow.archives.add(
                    ArchiveRecord(
                        0, job.id, job.target, result.archive_path, result.size_bytes, finished_at
                    )
                )
                quota = self._targets[job.target].quota
                await adjust_usage(uow, job.target, quota, result.size_bytes, 1, finished_at)
                pruned = await apply_retention(uow, job.target, finished_at, self._clock, quota)
            await uow.outbox.add(job_ended_event(job))
            await uow.audit.append(
                audit_entry(
                    SYSTEM_ACTOR,
                    self._clock,
                    f"job.{state.value}",
                    Outcome.OK,
                    job.target,
                    job.id,
                    job.error or "",  # what was stored: redacted
                )
            )
            await uow.commit()
            return job, pruned

    def _progress_sink(self, job_id: int) -> Callable[[Progress], None]:
        def record(progress: Progress) -> None:
            self._progress[job_id] = progress  # read by the heartbeat; a dict store is atomic

        return record

    async def _heartbeat(self, job_id: int, token: CancelToken) -> None:
        while not token.cancelled:
            await asyncio.sleep(self._heartbeat_seconds)
            try:
                async with self._uow_factory() as uow:
                    job = await uow.jobs.get(job_id)
                    if (
                        job is None
                        or job.state is not JobState.RUNNING
                        or job.worker != self.worker
                    ):
                        # Recorded as ended elsewhere (our lease expired): stop, so the
                        # target never runs twice once someone resumes it.
                        token.cancel(LOST_CLAIM)
                        return
                    if job.cancel_requested:
                        token.cancel("cancelled")
                    job.heartbeat_at = self._clock.now()
                    await uow.jobs.save(job)
                    await uow.commit()
            except Exception:  # a missed beat is harmless; the next one retries
                log.exception("heartbeat failed for job #%s", job_id)
