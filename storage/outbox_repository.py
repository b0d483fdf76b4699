"""SQLAlchemy implementation of the outbox port (C1): events written with the change that caused
them, fanned out by the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.events import EventKind, OutboxEvent
from storage.tables import OutboxRow


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: OutboxEvent) -> None:
        self._session.add(
            OutboxRow(
                kind=event.kind.value,
                target=event.target,
                payload=dict(event.payload),
                created_at=event.created_at,
            )
        )
        await self._session.flush()

    async def pending(self, *, limit: int = 50) -> Sequence[OutboxEvent]:
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.delivered_at.is_(None))
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        return [_event(r) for r in rows]

    async def get(self, event_id: int) -> OutboxEvent | None:
        row = await self._session.get(OutboxRow, event_id)
        return _event(row) if row is not None else None

    async def mark_fanned_out(self, event_id: int, at: datetime) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == event_id)
            .values(delivered_at=at)
            .execution_options(synchronize_session=False)
        )


def _event(r: OutboxRow) -> OutboxEvent:
    return OutboxEvent(
        EventKind(r.kind), r.target, r.created_at, dict(r.payload), r.id, r.delivered_at
    )
