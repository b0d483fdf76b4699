"""Jobs, their annotations and the unit of work itself, on every backend (tests/contract)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from core.domain.model import (
    Annotation,
    AnnotationKind,
    JobState,
)
from core.errors import Conflict
from core.ports import UnitOfWorkFactory
from tests.contract.seeds import BOB, JOB_ORIGIN, JOB_TIME, audit_line, new_job

T0 = JOB_TIME
ORIGIN = JOB_ORIGIN


async def test_a_job_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(new_job())
        job.transition(JobState.RUNNING, T0 + timedelta(seconds=1))
        job.worker = "host:42"
        await uow.jobs.save(job)
        job.transition(JobState.SUCCEEDED, T0 + timedelta(seconds=3, microseconds=500))
        job.file_count, job.size_bytes = 12, 5_000_000_000  # beyond 32 bits
        job.sha256, job.archive_path, job.error = "ab" * 32, "/var/a.tar.gz", None
        await uow.jobs.save(job)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.jobs.get(job.id)
    assert loaded == job
    assert loaded is not None and loaded.created_at.tzinfo is UTC
    assert loaded.duration == timedelta(seconds=2, microseconds=500)
    assert loaded.origin == ORIGIN  # its channel's name and whether it was a direct chat too


async def test_a_second_active_job_of_a_target_names_the_running_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        first = await uow.jobs.add(new_job())
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(Conflict) as refused:
            await uow.jobs.add(new_job())
        assert refused.value.params == {"target": "demo", "job": first.id}
        other = await uow.jobs.add(new_job("site-a"))  # the transaction is still usable
        await uow.commit()
    assert other.id == first.id + 1


async def test_a_finished_target_takes_a_new_job(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(new_job())
        job.transition(JobState.CANCELLED, T0)
        await uow.jobs.save(job)
        await uow.jobs.add(new_job())
        await uow.commit()
        assert [j.state for j in await uow.jobs.recent()] == [JobState.QUEUED, JobState.CANCELLED]


async def test_recent_filters_by_target_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for index in range(5):
            job = await uow.jobs.add(new_job("a" if index % 2 else "b"))
            job.transition(JobState.CANCELLED, T0)
            await uow.jobs.save(job)
        await uow.commit()
        assert [j.id for j in await uow.jobs.recent(limit=3)] == [5, 4, 3]
        assert [j.id for j in await uow.jobs.recent(targets=["a"])] == [4, 2]
        assert await uow.jobs.recent(targets=[]) == []
        assert await uow.jobs.active_for_target("a") is None


async def test_leaving_without_commit_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.jobs.add(new_job())
        await uow.audit.append(audit_line("run"))
    async with uow_factory() as uow:
        assert await uow.jobs.recent() == []
        assert await uow.audit.recent() == []


async def test_annotations_are_listed_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(new_job())
        for index, kind in enumerate(AnnotationKind):
            await uow.annotations.add(
                Annotation(
                    None,
                    job.id,
                    kind,
                    f"note {index}",
                    BOB,
                    "Bob",
                    T0 + timedelta(minutes=index),
                    link="https://chat/x",
                )
            )
        await uow.commit()
    async with uow_factory() as uow:
        notes = await uow.annotations.for_job(job.id)
    assert [(n.kind, n.text) for n in notes] == [
        (AnnotationKind.NOTE, "note 0"),
        (AnnotationKind.RELAUNCH, "note 1"),
        (AnnotationKind.ANOMALY, "note 2"),
    ]
    assert notes[0].author == BOB and notes[0].id is not None


async def test_jobs_in_given_states_come_oldest_first_and_an_unknown_id_reads_none(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        ids = [(await uow.jobs.add(new_job(target))).id for target in ("c", "a", "b")]
        first = await uow.jobs.get(ids[0])
        assert first is not None
        first.transition(JobState.RUNNING, T0 + timedelta(seconds=1))
        await uow.jobs.save(first)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert [j.id for j in await uow.jobs.in_states([JobState.RUNNING, JobState.QUEUED])] == ids
        assert [j.target for j in await uow.jobs.in_states([JobState.RUNNING])] == ["c"]
        assert await uow.jobs.in_states([]) == []
        assert await uow.jobs.get(max(ids) + 1) is None
        active = await uow.jobs.active_for_target("c")
        assert active is not None and (active.id, active.state) == (ids[0], JobState.RUNNING)
        assert await uow.jobs.active_for_target("elsewhere") is None


async def test_recent_jobs_default_to_the_ten_newest(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for index in range(12):
            job = await uow.jobs.add(new_job(f"t{index}"))
            job.transition(JobState.CANCELLED, T0)
            await uow.jobs.save(job)
        await uow.commit()
    async with uow_factory() as uow:
        assert [j.target for j in await uow.jobs.recent()] == [f"t{i}" for i in range(11, 1, -1)]
        assert [j.target for j in await uow.jobs.recent(targets=["t0", "t5"], limit=1)] == ["t5"]


async def test_saving_a_job_that_was_never_added_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(new_job())
        ghost = replace(job, id=job.id + 1)
        with pytest.raises(LookupError):
            await uow.jobs.save(ghost)
        assert await uow.jobs.get(ghost.id) is None


async def test_annotations_belong_to_their_job(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        one = await uow.jobs.add(new_job("one"))
        two = await uow.jobs.add(new_job("two"))
        for job, text in ((two, "b1"), (one, "a1"), (two, "b2")):
            await uow.annotations.add(
                Annotation(None, job.id, AnnotationKind.NOTE, text, BOB, "Bob", T0)
            )
        await uow.commit()
    async with uow_factory() as uow:
        assert [n.text for n in await uow.annotations.for_job(two.id)] == ["b1", "b2"]
        assert [n.text for n in await uow.annotations.for_job(one.id)] == ["a1"]
        assert await uow.annotations.for_job(two.id + 1) == []


async def test_a_rollback_forgets_what_came_after_the_commit_and_the_work_goes_on(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.jobs.add(new_job("kept"))
        await uow.commit()
        await uow.jobs.add(new_job("dropped"))
        await uow.audit.append(audit_line("dropped"))
        await uow.rollback()
        assert [j.target for j in await uow.jobs.recent()] == ["kept"]
        assert await uow.audit.recent() == []
        await uow.jobs.add(new_job("after"))
        await uow.commit()
    async with uow_factory() as uow:
        assert [j.target for j in await uow.jobs.recent()] == ["after", "kept"]
