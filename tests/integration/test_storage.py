"""Repositories and unit of work on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.capabilities import Role
from core.domain.model import (
    Annotation,
    AnnotationKind,
    AuditEntry,
    Grant,
    JobState,
    NewJob,
    Origin,
    OriginKind,
    Outcome,
    Principal,
)
from core.errors import Conflict
from storage import SqlJobArchive, SqlUnitOfWorkFactory, create_engine, upgrade
from storage.migrate import SchemaOutdated, current_revision, ensure_schema, head_revision
from storage.tables import Base

T0 = datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC)
BOB = Principal("console", "", "bob")


ORIGIN = Origin(OriginKind.USER, "slack", "T1", "C9", channel_name="#ops", direct=True)


def _new_job(target: str = "demo", at: datetime = T0) -> NewJob:
    return NewJob(target, ORIGIN, BOB, "Bob", at)


async def test_migrations_build_the_schema_once_and_match_the_models(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await upgrade(engine)  # a second upgrade changes nothing

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_a_job_round_trips_every_field(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(_new_job())
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


async def test_a_second_active_job_of_a_target_names_the_running_one(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        first = await uow.jobs.add(_new_job())
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(Conflict) as refused:
            await uow.jobs.add(_new_job())
        assert refused.value.params == {"target": "demo", "job": first.id}
        other = await uow.jobs.add(_new_job("site-a"))  # the transaction is still usable
        await uow.commit()
    assert other.id == first.id + 1


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
                await uow.jobs.add(_new_job())
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


async def test_a_finished_target_takes_a_new_job(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(_new_job())
        job.transition(JobState.CANCELLED, T0)
        await uow.jobs.save(job)
        await uow.jobs.add(_new_job())
        await uow.commit()
        assert [j.state for j in await uow.jobs.recent()] == [JobState.QUEUED, JobState.CANCELLED]


async def test_recent_filters_by_target_newest_first(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for index in range(5):
            job = await uow.jobs.add(_new_job("a" if index % 2 else "b"))
            job.transition(JobState.CANCELLED, T0)
            await uow.jobs.save(job)
        await uow.commit()
        assert [j.id for j in await uow.jobs.recent(limit=3)] == [5, 4, 3]
        assert [j.id for j in await uow.jobs.recent(targets=["a"])] == [4, 2]
        assert await uow.jobs.recent(targets=[]) == []
        assert await uow.jobs.active_for_target("a") is None


async def test_leaving_without_commit_rolls_back(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.jobs.add(_new_job())
        await uow.audit.append(_entry("run"))
    async with uow_factory() as uow:
        assert await uow.jobs.recent() == []
        assert await uow.audit.recent() == []


async def test_annotations_are_listed_oldest_first(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(_new_job())
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


async def test_grants_keep_workspaces_and_scopes_apart(uow_factory: SqlUnitOfWorkFactory) -> None:
    u_in_t1, u_in_t2 = Principal("slack", "T1", "U1"), Principal("slack", "T2", "U1")
    async with uow_factory() as uow:
        await uow.grants.add(Grant(u_in_t1, Role.ADMIN, None, "configuration", T0))
        await uow.grants.add(Grant(u_in_t1, Role.OPERATOR, "demo", "console:alice", T0))
        await uow.grants.add(Grant(u_in_t2, Role.VIEWER, None, "console:alice", T0))
        await uow.commit()
    async with uow_factory() as uow:
        assert {(g.role, g.target) for g in await uow.grants.for_principal(u_in_t1)} == {
            (Role.ADMIN, None),
            (Role.OPERATOR, "demo"),
        }
        assert [g.role for g in await uow.grants.for_principal(u_in_t2)] == [Role.VIEWER]
        assert await uow.grants.find(u_in_t1, Role.OPERATOR, None) is None
        found = await uow.grants.find(u_in_t1, Role.ADMIN, None)
        assert found is not None and found.from_configuration
        assert await uow.grants.global_holders(Role.ADMIN) == [u_in_t1]
        assert await uow.grants.remove(u_in_t1, Role.OPERATOR, "demo")
        assert not await uow.grants.remove(u_in_t1, Role.OPERATOR, "demo")
        await uow.commit()
        assert len(await uow.grants.all()) == 2


def _entry(action: str, at: datetime = T0) -> AuditEntry:
    return AuditEntry(
        at,
        "console:bob",
        "bob",
        "console",
        "",
        "console",
        action,
        Outcome.OK,
        "demo",
        3,
        "run demo",
    )


async def test_the_audit_log_appends_and_reads_newest_first(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.audit.append(_entry("run"))
        await uow.audit.append(_entry("status", T0 + timedelta(seconds=1)))
        await uow.commit()
    async with uow_factory() as uow:
        entries = await uow.audit.recent(limit=5)
    assert [e.action for e in entries] == ["status", "run"]
    assert entries[1].at == T0 and entries[1].job_id == 3
    assert not hasattr(uow.audit, "delete") and not hasattr(uow.audit, "update")


async def test_the_job_archive_streams_a_period_with_annotations(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        for day in range(3):
            job = await uow.jobs.add(_new_job(at=T0 + timedelta(days=day)))
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
