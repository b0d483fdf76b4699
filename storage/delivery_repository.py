"""Deliveries of outbox events (core/dispatch.py): fan-out, leases, retries, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.deliveries import Delivery, DeliveryState
from core.subscriptions import Destination
from storage.tables import DeliveryRow


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        row.event_id,
        Destination(row.platform, row.workspace, row.channel),
        row.private,
        DeliveryState(row.state),
        row.attempts,
        row.next_attempt_at,
        row.message_id,
        row.last_error,
        row.id,
        row.claimed_at,
    )


class SqlDeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_many(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            try:
                async with self._session.begin_nested():
                    self._session.add(
                        DeliveryRow(
                            event_id=d.event_id,
                            platform=d.destination.platform,
                            workspace=d.destination.workspace,
                            channel=d.destination.channel,
                            private=d.private,
                            state=d.state.value,
                            attempts=d.attempts,
                            next_attempt_at=d.next_attempt_at,
                        )
                    )
            except IntegrityError:
                continue  # fanned out before a crash: that delivery is already on its way

    async def claim_due(
        self, now: datetime, lease: timedelta, *, limit: int, per_destination: int
    ) -> Sequence[Delivery]:
        d = DeliveryRow
        place = (d.platform, d.workspace, d.channel)
        # A destination with a delivery claimed (in flight) or backing off after a failure
        # waits for it: nothing overtakes it, so each destination reads its alerts in order.
        waiting = select(*place).where(
            d.state == DeliveryState.PENDING.value, d.next_attempt_at > now
        )
        due = (
            select(
                d.id,
                func.row_number()
                .over(partition_by=place, order_by=(d.event_id, d.id))
                .label("position"),
            )
            .where(d.state == DeliveryState.PENDING.value, d.next_attempt_at <= now)
            .where(tuple_(*place).not_in(waiting))
            .subquery()
        )
        wanted = select(due.c.id).where(due.c.position <= per_destination)
        query = (
            select(d)
            # Checked again on the row itself: PostgreSQL re-reads a row another claimer has
            # just committed, and only these conditions (not the subquery's) see its new lease.
            .where(
                and_(
                    d.id.in_(wanted),
                    d.state == DeliveryState.PENDING.value,
                    d.next_attempt_at <= now,
                )
            )
            .order_by(d.event_id, d.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: other workers skip these rows
        )
        rows = list(await self._session.scalars(query))
        claimed = [_delivery(row) for row in rows]
        for row in rows:
            row.next_attempt_at = now + lease
            row.claimed_at = row.claimed_at or now  # keep the first unsettled claim
        await self._session.flush()
        return claimed

    async def mark_sent(self, delivery_id: int, message_id: str, at: datetime) -> None:
        await self._set(
            delivery_id,
            state=DeliveryState.SENT.value,
            message_id=message_id,
            sent_at=at,
            claimed_at=None,
        )

    async def retry_at(
        self, delivery_id: int, at: datetime, attempts: int, error: str, *, surely_unsent: bool
    ) -> None:
        values: dict[str, object] = {
            "next_attempt_at": at,
            "attempts": attempts,
            "last_error": error,
        }
        if surely_unsent:
            values["claimed_at"] = None
        await self._set(delivery_id, **values)

    async def mark_dead(self, delivery_id: int, attempts: int, error: str) -> None:
        await self._set(
            delivery_id,
            state=DeliveryState.DEAD.value,
            attempts=attempts,
            last_error=error,
            claimed_at=None,
        )

    async def in_state(self, state: DeliveryState, *, limit: int = 50) -> Sequence[Delivery]:
        rows = await self._session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.state == state.value)
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [_delivery(row) for row in rows]

    async def due(self, now: datetime, *, limit: int) -> Sequence[Delivery]:
        rows = await self._session.scalars(
            select(DeliveryRow)
            .where(
                DeliveryRow.state == DeliveryState.PENDING.value,
                DeliveryRow.next_attempt_at <= now,
            )
            .limit(limit)
        )
        return [_delivery(row) for row in rows]

    async def revive(self, delivery_id: int, at: datetime) -> bool:
        result = await self._session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id, DeliveryRow.state == DeliveryState.DEAD.value)
            .values(
                state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=at, claimed_at=None
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def _set(self, delivery_id: int, **values: object) -> None:
        await self._session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
