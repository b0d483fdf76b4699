"""Deliveries of outbox events (core/delivery/fanout.py): fan-out, leases, retries, dead letters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.delivery.model import Delivery, DeliveryState
from core.domain.subscriptions import Destination
from storage.bulk import insert_ignoring_duplicates
from storage.tables import DeliveryRow


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        event_id=row.event_id,
        destination=Destination(row.platform, row.workspace, row.channel),
        private=row.private,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        message_id=row.message_id,
        last_error=row.last_error,
        id=row.id,
        unsettled_since=row.claimed_at,
    )


CHUNK = 1000  # ids per statement, within every database's bound on parameters


class SqlDeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_many(self, deliveries: Sequence[Delivery]) -> None:
        # A delivery already there (fanned out before a crash) is on its way: left as it is.
        await insert_ignoring_duplicates(
            self._session,
            cast(Table, DeliveryRow.__table__),
            [
                {
                    "event_id": d.event_id,
                    "platform": d.destination.platform,
                    "workspace": d.destination.workspace,
                    "channel": d.destination.channel,
                    "private": d.private,
                    "state": d.state.value,
                    "attempts": d.attempts,
                    "next_attempt_at": d.next_attempt_at,
                    "message_id": "",
                    "last_error": "",
                }
                for d in deliveries
            ],
        )

    async def claim_due(
        self, now: datetime, lease: timedelta, *, limit: int, per_destination: int
    ) -> Sequence[Delivery]:
        d = DeliveryRow
        place = (d.platform, d.workspace, d.channel)
        # A destination with a delivery claimed (in flight) or backing off after a failure
        # waits for it: nothing overtakes it, so each destination reads its alerts in order.
        w = aliased(DeliveryRow)
        waiting = (
            select(w.id)
            .where(w.platform == d.platform, w.workspace == d.workspace, w.channel == d.channel)
            .where(w.state == DeliveryState.PENDING.value, w.next_attempt_at > now)
            .exists()
        )
        due = (
            select(
                d.id,
                d.event_id,
                func.row_number()
                .over(partition_by=place, order_by=(d.event_id, d.id))
                .label("position"),
            )
            .where(d.state == DeliveryState.PENDING.value, d.next_attempt_at <= now)
            .where(~waiting)  # NOT EXISTS: an anti-join on both databases
            .subquery()
        )
        candidates = list(
            await self._session.scalars(
                select(due.c.id)
                .where(due.c.position <= per_destination)
                .order_by(due.c.event_id, due.c.id)
                .limit(limit)
            )
        )
        # Then lock them by primary key, a chunk at a time. (One statement with `IN
        # (subquery)` and FOR UPDATE let PostgreSQL, on fresh statistics-less rows, rescan
        # the subquery per row: 40 s for 10,000.) The conditions are checked again on each
        # row: a row another claimer has just committed shows its new lease here.
        rows: list[DeliveryRow] = []
        for start in range(0, len(candidates), CHUNK):
            rows.extend(
                await self._session.scalars(
                    select(d)
                    .where(
                        d.id.in_(candidates[start : start + CHUNK]),
                        d.state == DeliveryState.PENDING.value,
                        d.next_attempt_at <= now,
                    )
                    .with_for_update(skip_locked=True)  # PostgreSQL: others skip these rows
                )
            )
        rows.sort(key=lambda row: (row.event_id, row.id))
        claimed = [_delivery(row) for row in rows]
        # One statement for the lease (thousands of rows at a time; one ORM flush per row
        # would cost seconds). The first unsettled claim time is kept: see `claimed_at`.
        for start in range(0, len(rows), CHUNK):
            ids = [row.id for row in rows[start : start + CHUNK]]
            await self._session.execute(
                update(d)
                .where(d.id.in_(ids))
                .values(next_attempt_at=now + lease, claimed_at=func.coalesce(d.claimed_at, now))
                .execution_options(synchronize_session=False)
            )
        return claimed

    async def mark_sent(self, delivery_id: int, message_id: str, at: datetime) -> None:
        await self._set(
            delivery_id,
            state=DeliveryState.SENT.value,
            message_id=message_id,
            sent_at=at,
            claimed_at=None,
        )

    async def mark_sent_many(self, sent: Sequence[tuple[int, str]], at: datetime) -> None:
        if not sent:
            return
        table = cast(Table, DeliveryRow.__table__)
        statement = (
            update(table)
            .where(table.c.id == bindparam("delivery_id"))
            .values(
                state=DeliveryState.SENT.value,
                message_id=bindparam("sent_id"),
                sent_at=at,
                claimed_at=None,
            )
        )
        rows = [
            {"delivery_id": delivery_id, "sent_id": message_id} for delivery_id, message_id in sent
        ]
        await self._session.execute(statement, rows)

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

    async def pending_by_platform(self) -> Mapping[str, int]:
        # One grouped count on the (state, next_attempt_at) index, at each scrape.
        rows = await self._session.execute(
            select(DeliveryRow.platform, func.count())
            .where(DeliveryRow.state == DeliveryState.PENDING.value)
            .group_by(DeliveryRow.platform)
        )
        return {platform: count for platform, count in rows}

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
