"""Where each principal stands with the guided tour (D1), in the `tours` table."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.model import Principal
from core.domain.tour import TourRecord, TourState
from storage.bulk import insert_if_new
from storage.tables import TourRow


class SqlTourRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def offer(self, principal: Principal, at: datetime) -> bool:
        row = {
            "principal": principal.key,
            "state": TourState.OFFERED.value,
            "offered_at": at,
            "updated_at": at,
        }
        return await insert_if_new(self._session, cast(Table, TourRow.__table__), row)

    async def get(self, principal: Principal) -> TourRecord | None:
        # populate_existing: a row read before an `end` in this transaction is read afresh.
        row = await self._session.scalar(
            select(TourRow)
            .where(TourRow.principal == principal.key)
            .execution_options(populate_existing=True)
        )
        if row is None:
            return None
        return TourRecord(principal, TourState(row.state), row.offered_at, row.updated_at)

    async def end(self, principal: Principal, state: TourState, at: datetime) -> None:
        await self.offer(principal, at)  # `tour` typed first: the row may not exist yet
        await self._session.execute(
            update(TourRow)
            .where(TourRow.principal == principal.key)
            .values(state=state.value, updated_at=at)
        )
