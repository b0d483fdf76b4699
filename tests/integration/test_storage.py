"""Repositories and unit of work on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.model import (
    Annotation,
    AnnotationKind,
    JobState,
)
from core.errors import Conflict
from storage import SqlJobArchive, SqlUnitOfWorkFactory, create_engine, upgrade
from storage.migrate import SchemaOutdated, current_revision, ensure_schema, head_revision
from storage.tables import Base
from tests.contract.seeds import BOB, JOB_ORIGIN, JOB_TIME, new_job

T0 = JOB_TIME
ORIGIN = JOB_ORIGIN


async def test_migrations_build_the_schema_once_and_match_the_models(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await upgrade(engine)  # a second upgrade changes nothing

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_a_job_stored_before_channel_names_reads_with_none(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0009")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO jobs (target, state, origin_kind, origin_platform,"
                    " origin_workspace, origin_channel, origin_reference, requester_name,"
                    " created_at, cancel_requested) VALUES ('demo', 'succeeded', 'user', 'teams',"
                    " 'tenant', '19:raw@thread.tacv2', '', 'Alex', :at, false)"
                ),
                {"at": T0.isoformat()},
            )
        await upgrade(engine)
        async with SqlUnitOfWorkFactory(engine)() as uow:
            [job] = await uow.jobs.recent(limit=5)
        assert (job.origin.channel, job.origin.channel_name) == ("19:raw@thread.tacv2", "")
        assert job.origin.direct is False  # its requester is still told privately
    finally:
        await engine.dispose()


async def test_two_racing_runs_of_one_target_leave_exactly_one_active_job(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    barrier = asyncio.Barrier(2)

    async def attempt() -> str:
        async with uow_factory() as uow:
            await uow.jobs.active_for_target("demo")
            # Both have checked, both now insert. SQLite lets one writer in at a time, so
            # there the first gives up waiting for the second and goes on alone.
            with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
                async with asyncio.timeout(1):
                    await barrier.wait()
            try:
                await uow.jobs.add(new_job())
                await uow.commit()
            except Conflict:
                return "refused"
            return "queued"

    results = await asyncio.gather(attempt(), attempt(), return_exceptions=True)
    outcomes = sorted(r if isinstance(r, str) else type(r).__name__ for r in results)
    # SQLite serialises writers (the second waits, then sees the first); PostgreSQL hits the
    # partial unique index. Either way one run is queued and the other is refused.
    assert outcomes == ["queued", "refused"]
    async with uow_factory() as uow:
        assert len(await uow.jobs.in_states([JobState.QUEUED])) == 1


async def test_the_job_archive_streams_a_period_with_annotations(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        for day in range(3):
            job = await uow.jobs.add(new_job(at=T0 + timedelta(days=day)))
            job.transition(JobState.CANCELLED, T0)
            await uow.jobs.save(job)
            for n in range(day):
                await uow.annotations.add(
                    Annotation(None, job.id, AnnotationKind.NOTE, f"{day}.{n}", BOB, "Bob", T0)
                )
        await uow.commit()
    rows = [
        (job.id, [a.text for a in notes])
        async for job, notes in SqlJobArchive(engine).stream(
            T0 + timedelta(days=1), T0 + timedelta(days=3)
        )
    ]
    assert rows == [(2, ["1.0"]), (3, ["2.0", "2.1"])]


async def test_an_outdated_schema_is_refused_with_the_upgrade_command(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(SchemaOutdated, match="run `exportbot db upgrade` first"):
        await ensure_schema(engine)


async def test_processes_migrating_at_once_build_the_schema_once(tmp_path: Path) -> None:
    """Three engines (as three processes would) upgrade one empty database concurrently."""
    url = os.environ.get("EXPORTBOT_TEST_PG_URL") or f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    schema = f"race_{uuid.uuid4().hex[:10]}"
    pg = url.startswith("postgresql")
    kwargs = {"connect_args": {"server_settings": {"search_path": schema}}} if pg else {}
    admin = create_engine(url)
    if pg:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engines = [create_engine(url, **kwargs) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert {await current_revision(engine) for engine in engines} == {head_revision()}
    finally:
        for engine in engines:
            await engine.dispose()
        if pg:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
