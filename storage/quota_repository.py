"""Quota counters: one row per target, changed by atomic increments (no read-modify-write)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.quotas import QuotaUsage
from storage.tables import QuotaUsageRow


def _usage(row: QuotaUsageRow) -> QuotaUsage:
    return QuotaUsage(
        row.target,
        row.storage,
        row.used_bytes,
        row.archive_count,
        frozenset(row.fired),
        row.updated_at,
    )


class SqlQuotaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, target: str) -> QuotaUsage | None:
        row = await self._session.get(QuotaUsageRow, target, populate_existing=True)
        return _usage(row) if row else None

    async def adjust(
        self, target: str, storage: str, delta_bytes: int, delta_count: int, at: datetime
    ) -> QuotaUsage:
        if not await self._increment(target, delta_bytes, delta_count, at):
            try:
                async with self._session.begin_nested():
                    self._session.add(
                        QuotaUsageRow(
                            target=target,
                            storage=storage,
                            used_bytes=0,
                            archive_count=0,
                            fired=[],
                            updated_at=at,
                        )
                    )
            except IntegrityError:
                pass  # another transaction created it first; the increment below is still ours
            await self._increment(target, delta_bytes, delta_count, at)
        usage = await self.get(target)
        assert usage is not None
        return usage

    async def _increment(
        self, target: str, delta_bytes: int, delta_count: int, at: datetime
    ) -> bool:
        result = await self._session.execute(
            update(QuotaUsageRow)
            .where(QuotaUsageRow.target == target)
            .values(
                used_bytes=QuotaUsageRow.used_bytes + delta_bytes,
                archive_count=QuotaUsageRow.archive_count + delta_count,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_fired(self, target: str, fired: frozenset[int]) -> None:
        await self._session.execute(
            update(QuotaUsageRow)
            .where(QuotaUsageRow.target == target)
            .values(fired=sorted(fired))
            .execution_options(synchronize_session=False)
        )

    async def reset(
        self, target: str, storage: str, used_bytes: int, archive_count: int, at: datetime
    ) -> QuotaUsage:
        current = await self.get(target)
        delta_bytes = used_bytes - (current.used_bytes if current else 0)
        delta_count = archive_count - (current.archive_count if current else 0)
        return await self.adjust(target, storage, delta_bytes, delta_count, at)
