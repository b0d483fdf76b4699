"""SQLAlchemy implementations of the core's repository ports (core/ports.py)."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.capabilities import Role
from core.domain.model import (
    ACTIVE_STATES,
    Annotation,
    AuditEntry,
    Grant,
    Job,
    JobState,
    NewJob,
    OriginKind,
    Principal,
)
from core.errors import Conflict
from storage.mapping import (
    annotation_from_row,
    audit_from_row,
    copy_job_to_row,
    grant_from_row,
    job_from_row,
)
from storage.tables import AnnotationRow, AuditRow, Base, GrantRow, JobRow

_ACTIVE = [state.value for state in ACTIVE_STATES]


def _rowcount(result: object) -> int:
    """Rows an UPDATE changed (an UPDATE's result is always a cursor result)."""
    return cast(CursorResult[Any], result).rowcount


class SqlJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new_job: NewJob) -> Job:
        active = await self.active_for_target(new_job.target)
        if active is not None:
            raise Conflict("error.target_busy", target=new_job.target, job=active.id)
        origin = new_job.origin
        row = JobRow(
            target=new_job.target,
            state=JobState.QUEUED.value,
            origin_kind=origin.kind.value,
            origin_platform=origin.platform,
            origin_workspace=origin.workspace,
            origin_channel=origin.channel,
            origin_reference=origin.reference,
            origin_channel_name=origin.channel_name,
            origin_direct=origin.direct,
            requester=new_job.requester.key if new_job.requester else None,
            requester_name=new_job.requester_name,
            created_at=new_job.created_at,
            cancel_requested=False,
        )
        try:
            # A savepoint: losing the race to another process must not spoil our transaction.
            async with self._session.begin_nested():
                self._session.add(row)
                await self._session.flush()
        except IntegrityError:
            winner = await self.active_for_target(new_job.target)
            raise Conflict(
                "error.target_busy", target=new_job.target, job=winner.id if winner else "?"
            ) from None
        return job_from_row(row)

    async def get(self, job_id: int) -> Job | None:
        row = await self._session.get(JobRow, job_id, populate_existing=True)
        return job_from_row(row) if row else None

    async def active_for_target(self, target: str) -> Job | None:
        row = await self._session.scalar(
            select(JobRow).where(JobRow.target == target, JobRow.state.in_(_ACTIVE)).limit(1)
        )
        return job_from_row(row) if row else None

    async def recent(
        self, *, targets: Collection[str] | None = None, limit: int = 10
    ) -> Sequence[Job]:
        query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
        if targets is not None:
            query = query.where(JobRow.target.in_(list(targets)))
        return [job_from_row(row) for row in await self._session.scalars(query)]

    async def in_states(self, states: Collection[JobState]) -> Sequence[Job]:
        query = select(JobRow).where(JobRow.state.in_([s.value for s in states]))
        return [job_from_row(row) for row in await self._session.scalars(query.order_by(JobRow.id))]

    async def save(self, job: Job) -> None:
        row = await self._session.get(JobRow, job.id)
        if row is None:
            raise LookupError(f"job #{job.id} does not exist")
        copy_job_to_row(job, row)
        await self._session.flush()

    async def claim_next(self, targets: Collection[str], worker: str, at: datetime) -> Job | None:
        if not targets:
            return None
        for _ in range(3):  # SQLite: another process may take the one we saw; look again
            job_id = await self._session.scalar(
                select(JobRow.id)
                .where(JobRow.state == JobState.QUEUED.value, JobRow.target.in_(list(targets)))
                .order_by(JobRow.id)
                .limit(1)
                .with_for_update(skip_locked=True)  # PostgreSQL: other workers skip this row
            )
            if job_id is None:
                return None
            claimed = await self._session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == JobState.QUEUED.value)
                .values(state=JobState.RUNNING.value, worker=worker, started_at=at, heartbeat_at=at)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(claimed) == 1:
                return await self.get(job_id)
        return None

    async def confirm_start(self, job_id: int, worker: str, at: datetime) -> bool:
        confirmed = await self._session.execute(
            update(JobRow)
            .where(
                JobRow.id == job_id,
                JobRow.state == JobState.RUNNING.value,
                JobRow.worker == worker,
                JobRow.run_started_at.is_(None),
            )
            .values(run_started_at=at)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(confirmed) == 1

    async def interrupt_orphan(self, job: Job, at: datetime, error: str) -> Job | None:
        # The conditions are re-read under the row's lock (PostgreSQL) or the write lock
        # (SQLite), so of two processes recovering the same job one changes nothing.
        as_read = [
            JobRow.id == job.id,
            JobRow.state == job.state.value,
            JobRow.worker.is_(None) if job.worker is None else JobRow.worker == job.worker,
            JobRow.run_started_at.is_(None)
            if job.run_started_at is None
            else JobRow.run_started_at.is_not(None),
        ]
        changed = await self._session.execute(
            update(JobRow)
            .where(*as_read)
            .values(
                state=JobState.INTERRUPTED.value,
                finished_at=at,
                error=func.coalesce(JobRow.error, error),
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(changed) != 1:
            return None
        return await self.get(job.id)

    async def resumes_of(self, first_job_id: int) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(JobRow)
            .where(
                JobRow.origin_kind == OriginKind.AUTO_RESUME.value,
                JobRow.origin_reference == str(first_job_id),
            )
        )
        return int(count or 0)


class SqlAnnotationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, annotation: Annotation) -> Annotation:
        row = AnnotationRow(
            job_id=annotation.job_id,
            kind=annotation.kind.value,
            text=annotation.text,
            author=annotation.author.key,
            author_name=annotation.author_name,
            created_at=annotation.created_at,
            link=annotation.link,
        )
        self._session.add(row)
        await self._session.flush()
        return annotation_from_row(row)

    async def for_job(self, job_id: int) -> Sequence[Annotation]:
        query = select(AnnotationRow).where(AnnotationRow.job_id == job_id)
        rows = await self._session.scalars(query.order_by(AnnotationRow.id))
        return [annotation_from_row(row) for row in rows]


class GrantCache:
    """Each principal's grants, read on every command, kept for `ttl` seconds.

    A change made through this process clears the cache when it commits; a change made by
    another process (PostgreSQL deployments) is seen within `ttl` at the latest.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._grants: dict[str, tuple[float, Sequence[Grant]]] = {}

    def get(self, principal: Principal) -> Sequence[Grant] | None:
        cached = self._grants.get(principal.key)
        if cached is None or time.monotonic() - cached[0] > self._ttl:
            return None
        return cached[1]

    def put(self, principal: Principal, grants: Sequence[Grant]) -> None:
        self._grants[principal.key] = (time.monotonic(), tuple(grants))

    def clear(self) -> None:
        self._grants.clear()


# Held by a transaction about to remove a global grant (the last-admin rule), on PostgreSQL.
GRANT_CHANGES_LOCK_ID = 0x6578_706F_7274_02  # beside the migration and leader locks


class SqlGrantRepository:
    def __init__(self, session: AsyncSession, cache: GrantCache | None = None) -> None:
        self._session = session
        self._cache = cache
        self.changed = False

    async def add(self, grant: Grant) -> None:
        self.changed = True
        self._session.add(
            GrantRow(
                principal=grant.principal.key,
                role=grant.role.value,
                scope=grant.target or "",
                granted_by=grant.granted_by,
                granted_at=grant.granted_at,
            )
        )
        await self._session.flush()

    async def remove(self, principal: Principal, role: Role, target: str | None) -> bool:
        self.changed = True
        result = await self._session.execute(
            delete(GrantRow).where(
                GrantRow.principal == principal.key,
                GrantRow.role == role.value,
                GrantRow.scope == (target or ""),
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def find(self, principal: Principal, role: Role, target: str | None) -> Grant | None:
        row = await self._session.scalar(
            select(GrantRow).where(
                GrantRow.principal == principal.key,
                GrantRow.role == role.value,
                GrantRow.scope == (target or ""),
            )
        )
        return grant_from_row(row) if row else None

    async def for_principal(self, principal: Principal) -> Sequence[Grant]:
        cached = self._cache.get(principal) if self._cache and not self.changed else None
        if cached is not None:
            return cached
        query = select(GrantRow).where(GrantRow.principal == principal.key).order_by(GrantRow.id)
        grants = [grant_from_row(row) for row in await self._session.scalars(query)]
        if self._cache is not None and not self.changed:  # uncommitted grants stay private
            self._cache.put(principal, grants)
        return grants

    async def all(self) -> Sequence[Grant]:
        query = select(GrantRow).order_by(GrantRow.principal, GrantRow.role, GrantRow.scope)
        return [grant_from_row(row) for row in await self._session.scalars(query)]

    async def global_holders(self, role: Role, *, for_change: bool = False) -> Sequence[Principal]:
        if for_change:
            connection = await self._session.connection()
            # SQLite has one writer at a time already (and this process queues its own).
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": GRANT_CHANGES_LOCK_ID}
                )
        principals = await self._session.scalars(
            select(GrantRow.principal)
            .where(GrantRow.role == role.value, GrantRow.scope == "")
            .distinct()
            .order_by(GrantRow.principal)
        )
        return [Principal.parse(key) for key in principals]


AUDIT_TABLE = Base.metadata.tables[AuditRow.__tablename__]


def _audit_values(entry: AuditEntry) -> dict[str, object]:
    return {
        "at": entry.at,
        "actor": entry.actor,
        "actor_name": entry.actor_name,
        "platform": entry.platform,
        "workspace": entry.workspace,
        "channel": entry.channel,
        "action": entry.action,
        "outcome": entry.outcome.value,
        "target": entry.target,
        "job_id": entry.job_id,
        "detail": entry.detail,
    }


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, entry: AuditEntry) -> None:
        self._session.add(AuditRow(**_audit_values(entry)))
        await self._session.flush()

    async def append_many(self, entries: Sequence[AuditEntry]) -> None:
        """One executemany INSERT on the connection: neither the ORM's per-object bookkeeping
        nor its bulk path (five times slower here) for the group-committed entries."""
        if entries:
            connection = await self._session.connection()
            await connection.execute(AUDIT_TABLE.insert(), [_audit_values(e) for e in entries])

    async def recent(self, *, limit: int = 20) -> Sequence[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        return [audit_from_row(row) for row in await self._session.scalars(query)]

    async def page(
        self,
        since: datetime,
        until: datetime,
        *,
        target: str | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int = 2000,
    ) -> Sequence[AuditEntry]:
        # Plain rows, not ORM objects: an export reads a million of them (bench/audit_export.py).
        columns = AUDIT_TABLE.c
        if after is None:
            conditions = _audit_period(since, until, target)
        else:
            at, last_id = after
            # One lower bound, the last page's end: with two, SQLite may start the index's
            # range at `since` and walk every earlier page again (quadratic in the pages).
            conditions = _audit_period(max(since, at), until, target)
            conditions.append(or_(columns.at > at, columns.id > last_id))
        query = select(AUDIT_TABLE).where(*conditions).order_by(columns.at, columns.id)
        rows = await self._session.execute(query.limit(limit))
        return [audit_from_row(cast(AuditRow, row)) for row in rows]

    async def count(self, since: datetime, until: datetime, *, target: str | None = None) -> int:
        query = select(func.count()).select_from(AUDIT_TABLE)
        return (
            await self._session.execute(query.where(*_audit_period(since, until, target)))
        ).scalar_one()


def _audit_period(since: datetime, until: datetime, target: str | None) -> list[Any]:
    """The conditions of an export's period (and target) on the audit table."""
    columns = AUDIT_TABLE.c
    conditions: list[Any] = [columns.at >= since, columns.at < until]
    if target is not None:
        conditions.append(columns.target == target)
    return conditions
