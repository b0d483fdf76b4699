"""Subscriptions of channels to alerts (core/domain/subscriptions.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.subscriptions import EVERY_TARGET, AlertKind, Destination, Severity, Subscription
from storage.tables import SubscriptionRow


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        Destination(row.platform, row.workspace, row.channel),
        row.target,
        frozenset(AlertKind(k) for k in row.kinds),
        Severity(row.min_severity),
        row.created_by,
        row.updated_at,
        row.id,
    )


class SqlSubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _where(self, destination: Destination) -> list[ColumnElement[bool]]:
        return [
            SubscriptionRow.platform == destination.platform,
            SubscriptionRow.workspace == destination.workspace,
            SubscriptionRow.channel == destination.channel,
        ]

    async def _row(self, destination: Destination, target: str) -> SubscriptionRow | None:
        return await self._session.scalar(
            select(SubscriptionRow).where(
                *self._where(destination), SubscriptionRow.target == target
            )
        )

    async def get(self, destination: Destination, target: str) -> Subscription | None:
        row = await self._row(destination, target)
        return _subscription(row) if row else None

    async def for_destination(self, destination: Destination) -> Sequence[Subscription]:
        rows = await self._session.scalars(
            select(SubscriptionRow)
            .where(*self._where(destination))
            .order_by(SubscriptionRow.target)
        )
        return [_subscription(row) for row in rows]

    async def for_target(self, target: str) -> Sequence[Subscription]:
        rows = await self._session.scalars(
            select(SubscriptionRow)
            .where(SubscriptionRow.target.in_([target, EVERY_TARGET]))
            .order_by(SubscriptionRow.id)
        )
        return [_subscription(row) for row in rows]

    async def for_platform(self, platform: str) -> Sequence[Subscription]:
        rows = await self._session.scalars(
            select(SubscriptionRow)
            .where(SubscriptionRow.platform == platform)
            .order_by(SubscriptionRow.id)
        )
        return [_subscription(row) for row in rows]

    async def save(self, subscription: Subscription) -> Subscription:
        where = subscription.destination
        row = await self._row(where, subscription.target)
        if row is None:
            row = SubscriptionRow(
                platform=where.platform,
                workspace=where.workspace,
                channel=where.channel,
                target=subscription.target,
            )
            self._session.add(row)
        row.kinds = [k.value for k in AlertKind if k in subscription.kinds]
        row.min_severity = subscription.min_severity.value
        row.created_by = subscription.created_by
        row.updated_at = subscription.updated_at
        await self._session.flush()
        return _subscription(row)

    async def remove(self, destination: Destination, target: str) -> bool:
        result = await self._session.execute(
            delete(SubscriptionRow).where(
                *self._where(destination), SubscriptionRow.target == target
            )
        )
        return bool(getattr(result, "rowcount", 0))
