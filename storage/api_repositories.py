"""The job-event API's keys, reported runs and provisioned targets (core/api/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.api.keys import ApiKey
from core.api.runs import ProvisionedTarget, ReportedRun
from storage.bulk import insert_if_new
from storage.tables import ApiKeyRow, ApiRunRow, ProvisionedTargetRow


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        name=row.name,
        nonce=row.nonce,
        fingerprint=row.fingerprint,
        created_at=row.created_at,
        created_by=row.created_by,
        targets=tuple(row.targets),
        may_create=row.may_create,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _run(row: ApiRunRow) -> ReportedRun:
    return ReportedRun(
        target=row.target,
        rid=row.rid,
        job_id=row.job_id,
        key_name=row.key_name,
        host=row.host,
        command=row.command,
        bytes_done=row.bytes_done,
        files_done=row.files_done,
        percent=row.percent,
        log_tail=row.log_tail,
        updated_at=row.updated_at,
    )


async def _insert(session: AsyncSession, row: object) -> bool:
    try:
        async with session.begin_nested():  # a lost race must not spoil the transaction
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


class SqlApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, key: ApiKey) -> bool:
        if await self._session.get(ApiKeyRow, key.name) is not None:
            return False
        row = ApiKeyRow(
            name=key.name,
            nonce=key.nonce,
            fingerprint=key.fingerprint,
            targets=list(key.targets),
            may_create=key.may_create,
            created_by=key.created_by,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )
        return await _insert(self._session, row)

    async def get(self, name: str) -> ApiKey | None:
        row = await self._session.get(ApiKeyRow, name, populate_existing=True)
        return _key(row) if row else None

    async def all(self) -> Sequence[ApiKey]:
        rows = await self._session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name))
        return [_key(row) for row in rows]

    async def revoke(self, name: str, at: datetime) -> bool:
        result = await self._session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def touch(self, name: str, at: datetime) -> None:
        await self._session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.name == name)
            .values(last_used_at=at)
            .execution_options(synchronize_session=False)
        )


class SqlReportedRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, run: ReportedRun) -> bool:
        row = {
            "target": run.target,
            "rid": run.rid,
            "job_id": run.job_id,
            "key_name": run.key_name,
            "host": run.host,
            "command": run.command,
            "bytes_done": run.bytes_done,
            "files_done": run.files_done,
            "percent": run.percent,
            "log_tail": run.log_tail,
            "updated_at": run.updated_at,
        }
        return await insert_if_new(self._session, cast(Table, ApiRunRow.__table__), row)

    async def get(self, target: str, rid: str) -> ReportedRun | None:
        row = await self._session.scalar(
            select(ApiRunRow).where(ApiRunRow.target == target, ApiRunRow.rid == rid)
        )
        return _run(row) if row else None

    async def for_job(self, job_id: int) -> ReportedRun | None:
        row = await self._session.scalar(select(ApiRunRow).where(ApiRunRow.job_id == job_id))
        return _run(row) if row else None

    async def save(self, run: ReportedRun) -> None:
        result = await self._session.execute(
            update(ApiRunRow)
            .where(ApiRunRow.target == run.target, ApiRunRow.rid == run.rid)
            .values(
                bytes_done=run.bytes_done,
                files_done=run.files_done,
                percent=run.percent,
                log_tail=run.log_tail,
                updated_at=run.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            raise LookupError(f"no reported run {run.rid} of {run.target}")


class SqlProvisionedTargetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, target: ProvisionedTarget) -> bool:
        if await self._session.get(ProvisionedTargetRow, target.name) is not None:
            return False
        row = ProvisionedTargetRow(
            name=target.name, created_by=target.created_by, created_at=target.created_at
        )
        return await _insert(self._session, row)

    async def all(self) -> Sequence[ProvisionedTarget]:
        rows = await self._session.scalars(
            select(ProvisionedTargetRow).order_by(ProvisionedTargetRow.name)
        )
        return [ProvisionedTarget(r.name, r.created_by, r.created_at) for r in rows]
