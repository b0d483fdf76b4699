"""The job archive streams a period past one fetch batch (issue 12, item 1), on SQLite and
PostgreSQL: every job and every note once, in order."""

from __future__ import annotations

from contextlib import aclosing
from datetime import UTC, datetime, timedelta

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.jobs.export import ExportFormat, export_jobs, export_rows
from storage import SqlJobArchive
from storage.tables import JobRow
from tests.integration.seed import seed_jobs

T0 = datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC)
JOBS = 2_500  # two and a half fetch batches


def _notes_of(number: int) -> int:
    """0, 1, 2 or 3 notes, so a batch boundary falls inside a job's notes too."""
    return number % 4


async def test_a_period_of_2500_jobs_streams_every_job_and_note_once_in_order(
    engine: AsyncEngine,
) -> None:
    await seed_jobs(engine, JOBS + 2, T0 - timedelta(seconds=1), notes_per_job=_notes_of)
    since, until = T0, T0 + timedelta(seconds=JOBS)  # the first and last job fall outside

    seen = [
        (job.id, job.requester_name, [(n.id, n.job_id, n.text) for n in notes])
        async for job, notes in SqlJobArchive(engine).stream(since, until)
    ]

    assert [job_id for job_id, _, _ in seen] == list(range(2, JOBS + 2))
    assert all(name == f"person {job_id}" for job_id, name, _ in seen)
    for job_id, _, notes in seen:
        assert [(job, text) for _, job, text in notes] == [
            (job_id, f"note {k} of job {job_id}") for k in range(_notes_of(job_id))
        ]
    note_ids = [note_id for _, _, notes in seen for note_id, _, _ in notes]
    # Notes read back from the database have ids.
    assert note_ids == sorted(set(note_ids))  # type: ignore[type-var]  # once each, in order
    assert len(note_ids) == sum(_notes_of(n) for n in range(2, JOBS + 2))


async def test_the_archive_maps_every_field_of_a_job_and_its_note(engine: AsyncEngine) -> None:
    await seed_jobs(engine, 1, T0, notes_per_job=lambda _: 1)

    [(job, [note])] = [pair async for pair in SqlJobArchive(engine).stream(T0, T0 + timedelta(1))]

    assert (job.id, job.target, job.state.value, job.origin.kind.value) == (
        1,
        "site-2",
        "succeeded",
        "user",
    )
    assert job.requester is not None and job.requester.key == "slack:T1:U1"
    assert job.created_at == T0 and job.created_at.tzinfo is not None
    assert job.duration == timedelta(seconds=30)
    assert (job.size_bytes, job.file_count, job.sha256) == (1_000, 10, "ab" * 32)
    assert (note.kind.value, note.author.key, note.author_name) == ("note", "slack:T1:U9", "Nina")
    assert note.created_at == T0 + timedelta(minutes=1)


async def test_export_rows_write_what_the_jobs_write_byte_for_byte(engine: AsyncEngine) -> None:
    """The export's fast path (rows with times formatted by the database) against the jobs
    themselves: times with and without microseconds, never started, never finished, notes
    across a fetch boundary, every format."""
    whole_second = T0.replace(microsecond=0)
    await seed_jobs(engine, JOBS, whole_second, notes_per_job=_notes_of)
    async with engine.begin() as connection:
        await connection.execute(
            update(JobRow).where(JobRow.id % 5 == 0).values(started_at=None, finished_at=None)
        )
        await connection.execute(update(JobRow).where(JobRow.id % 5 == 1).values(finished_at=None))
        await connection.execute(
            update(JobRow)
            .where(JobRow.id % 5 == 2)
            .values(started_at=whole_second, finished_at=whole_second + timedelta(microseconds=1))
        )
    archive = SqlJobArchive(engine)
    since, until = T0 - timedelta(1), T0 + timedelta(1)

    for fmt in ExportFormat:
        fast = "".join([c async for c in export_rows(archive.export_batches(since, until), fmt)])
        slow = "".join([c async for c in export_jobs(archive.batches(since, until), fmt)])
        assert fast == slow
        assert "T10:00:01+00:00" in fast and "T10:00:00.000001+00:00" in fast


async def test_an_export_left_after_one_batch_ends_its_read_cleanly(engine: AsyncEngine) -> None:
    """`audit export | head -1`: the reader leaves while the next fetch is being read."""
    await seed_jobs(engine, JOBS, T0)
    archive = SqlJobArchive(engine)

    async with aclosing(archive.export_batches(T0, T0 + timedelta(1))) as batches:
        first = await anext(batches)

    assert [row[0] for row, _ in first][:3] == [1, 2, 3]
    async with engine.connect() as connection:  # and the connection is fit for the next use
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1


async def test_export_batches_of_one_target_hold_only_its_jobs_and_count_says_how_many(
    engine: AsyncEngine,
) -> None:
    await seed_jobs(engine, JOBS, T0)  # seven targets, site-1 to site-7, in turn
    since, until = T0, T0 + timedelta(seconds=JOBS)
    archive = SqlJobArchive(engine)

    async with aclosing(archive.export_batches(since, until, "site-3")) as batches:
        ids = [row[0] async for batch in batches for row, _ in batch]

    assert ids == [n for n in range(1, JOBS + 1) if n % 7 + 1 == 3]
    assert await archive.count(since, until, "site-3") == len(ids)
    assert await archive.count(since, until) == JOBS
