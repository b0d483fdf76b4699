"""SQLAlchemy implementation of the archive port: the archives kept per target (B4, B5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.schedules import ArchiveRecord
from storage.tables import ArchiveRow


class SqlArchiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, archive: ArchiveRecord) -> ArchiveRecord:
        row = ArchiveRow(
            job_id=archive.job_id,
            target=archive.target,
            path=archive.path,
            size_bytes=archive.size_bytes,
            created_at=archive.created_at,
            deleted_at=archive.deleted_at,
        )
        self._session.add(row)
        await self._session.flush()
        return _archive(row)

    async def kept(self, target: str) -> Sequence[ArchiveRecord]:
        rows = await self._session.scalars(
            select(ArchiveRow)
            .where(ArchiveRow.target == target, ArchiveRow.deleted_at.is_(None))
            .order_by(ArchiveRow.created_at, ArchiveRow.id)
        )
        return [_archive(row) for row in rows]

    async def growth(self, target: str, since: datetime) -> tuple[int, int]:
        added = await self._session.scalar(
            select(func.coalesce(func.sum(ArchiveRow.size_bytes), 0)).where(
                ArchiveRow.target == target, ArchiveRow.created_at >= since
            )
        )
        removed = await self._session.scalar(
            select(func.coalesce(func.sum(ArchiveRow.size_bytes), 0)).where(
                ArchiveRow.target == target, ArchiveRow.deleted_at >= since
            )
        )
        return int(added or 0), int(removed or 0)

    async def mark_deleted(self, archive_id: int, at: datetime) -> None:
        await self._session.execute(
            update(ArchiveRow)
            .where(ArchiveRow.id == archive_id)
            .values(deleted_at=at)
            .execution_options(synchronize_session=False)
        )


def _archive(row: ArchiveRow) -> ArchiveRecord:
    return ArchiveRecord(
        row.id, row.job_id, row.target, row.path, row.size_bytes, row.created_at, row.deleted_at
    )
