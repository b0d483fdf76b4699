"""Claims by workers (E4) and the start mark auto-resume relies on (E1), on every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.domain.model import JobState, NewJob, Origin, OriginKind
from core.ports import UnitOfWorkFactory
from storage import SqlUnitOfWorkFactory
from tests.contract.seeds import JOB_TIME, new_job

T0 = JOB_TIME
T1 = T0 + timedelta(seconds=1)


async def _queue(uow_factory: UnitOfWorkFactory, *targets: str) -> list[int]:
    async with uow_factory() as uow:
        ids = [(await uow.jobs.add(new_job(target))).id for target in targets]
        await uow.commit()
    return ids


async def test_a_claim_takes_the_oldest_queued_job_of_the_workers_targets(
    uow_factory: UnitOfWorkFactory,
) -> None:
    other, first, second = await _queue(uow_factory, "elsewhere", "site-a", "site-b")
    async with uow_factory() as uow:
        claimed = await uow.jobs.claim_next(["site-b", "site-a"], "w1:1", T1)
        again = await uow.jobs.claim_next(["site-b", "site-a"], "w1:1", T1)
        await uow.commit()
    assert claimed is not None and claimed.id == first
    assert (claimed.state, claimed.worker, claimed.started_at) == (JobState.RUNNING, "w1:1", T1)
    assert claimed.run_started_at is None  # claimed, not started
    assert again is not None and again.id == second
    async with uow_factory() as uow:
        assert await uow.jobs.claim_next(["site-a", "site-b"], "w2:2", T1) is None
        assert await uow.jobs.claim_next([], "w2:2", T1) is None
        untouched = await uow.jobs.get(other)
    assert untouched is not None and untouched.state is JobState.QUEUED


async def test_claims_go_past_a_batch_of_queued_jobs(uow_factory: UnitOfWorkFactory) -> None:
    targets = [f"t{n}" for n in range(30)]
    await _queue(uow_factory, *targets)
    seen: list[str] = []
    async with uow_factory() as uow:
        while (job := await uow.jobs.claim_next(targets, "w:1", T1)) is not None:
            seen.append(job.target)
        await uow.commit()
    assert seen == targets  # each exactly once, oldest first


async def test_the_start_mark_belongs_to_the_claiming_worker_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (job_id,) = await _queue(uow_factory, "demo")
    async with uow_factory() as uow:
        assert not await uow.jobs.confirm_start(job_id, "w:1", T1)  # queued: nothing to confirm
        await uow.jobs.claim_next(["demo"], "w:1", T1)
        assert not await uow.jobs.confirm_start(job_id, "w:2", T1)  # another worker's claim
        assert await uow.jobs.confirm_start(job_id, "w:1", T1)
        assert not await uow.jobs.confirm_start(job_id, "w:1", T1)  # once
        await uow.commit()
    async with uow_factory() as uow:
        job = await uow.jobs.get(job_id)
    assert job is not None and job.run_started_at == T1


async def test_an_orphan_is_interrupted_once_and_only_as_it_was_read(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (job_id,) = await _queue(uow_factory, "demo")
    async with uow_factory() as uow:
        claimed = await uow.jobs.claim_next(["demo"], "w:1", T1)
        await uow.commit()
    assert claimed is not None
    async with uow_factory() as uow:
        await uow.jobs.confirm_start(job_id, "w:1", T1)  # started since it was read
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.jobs.interrupt_orphan(claimed, T1, "gone") is None
        fresh = await uow.jobs.get(job_id)
        assert fresh is not None
        interrupted = await uow.jobs.interrupt_orphan(fresh, T1, "gone")
        assert await uow.jobs.interrupt_orphan(fresh, T1, "gone") is None  # once
        await uow.commit()
    assert interrupted is not None
    assert (interrupted.state, interrupted.error, interrupted.finished_at) == (
        JobState.INTERRUPTED,
        "gone",
        T1,
    )
    # The target is free again: a relaunch can be queued.
    (relaunched,) = await _queue(uow_factory, "demo")
    assert relaunched > job_id


async def test_resumes_are_counted_per_first_attempt(uow_factory: UnitOfWorkFactory) -> None:
    (first,) = await _queue(uow_factory, "demo")
    resume = Origin(OriginKind.AUTO_RESUME, reference=str(first))
    async with uow_factory() as uow:
        assert await uow.jobs.resumes_of(first) == 0
        for target in ("a", "b"):
            await uow.jobs.add(NewJob(target, resume, None, "", T0))
        await uow.jobs.add(
            NewJob("c", Origin(OriginKind.AUTO_RESUME, reference="999"), None, "", T0)
        )
        await uow.jobs.add(
            NewJob("d", Origin(OriginKind.SCHEDULE, reference=str(first)), None, "", T0)
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.jobs.resumes_of(first) == 2


async def test_workers_claiming_at_once_each_get_another_job(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """On PostgreSQL the second claim skips the row the first holds locked; the others write
    one at a time, and their conditional claim gives the same answer."""
    if not isinstance(uow_factory, SqlUnitOfWorkFactory):
        pytest.skip("the fake's transactions are snapshots that never overlap a claim")
    targets = [f"t{n}" for n in range(12)]
    await _queue(uow_factory, *targets)

    async def claim_all(worker: str) -> list[int]:
        got: list[int] = []
        while True:
            async with uow_factory() as uow:
                job = await uow.jobs.claim_next(targets, worker, T1)
                await asyncio.sleep(0)  # let the other worker's claim interleave
                await uow.commit()
            if job is None:
                return got
            got.append(job.id)

    first, second = await asyncio.gather(claim_all("w:1"), claim_all("w:2"))
    assert sorted(first + second) == sorted(set(first + second))  # no job twice
    assert len(first) + len(second) == len(targets)
