"""The dead-man's switch state of `reported` targets, changed by compare-and-set."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.deadman import Watch, WatchState
from storage.tables import WatchStateRow


class SqlWatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, target: str) -> WatchState | None:
        row = await self._session.get(WatchStateRow, target, populate_existing=True)
        if row is None:
            return None
        return WatchState(Watch(row.status), row.since, row.job_id)

    async def replace(self, target: str, before: WatchState | None, after: WatchState) -> bool:
        values = {"status": after.status.value, "since": after.since, "job_id": after.job_id}
        if before is None:  # never judged: the first one to insert the row wins
            try:
                async with self._session.begin_nested():
                    await self._session.execute(
                        insert(WatchStateRow).values(target=target, **values)
                    )
            except IntegrityError:
                return False
            return True
        changed = await self._session.execute(
            update(WatchStateRow)
            .where(
                WatchStateRow.target == target,
                WatchStateRow.status == before.status.value,
                WatchStateRow.since == before.since,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(changed, "rowcount", 0))
