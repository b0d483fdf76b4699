"""Deliveries under racing claimers on SQLite and PostgreSQL (the rest of the repository's
behaviour is in tests/contract/test_deliveries.py, on every backend)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.delivery.model import Delivery, DeliveryState
from core.domain.events import EventKind, OutboxEvent
from core.domain.subscriptions import Destination
from storage import SqlUnitOfWorkFactory

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def _delivery(event_id: int, channel: str) -> Delivery:
    where = Destination("slack", "T1", channel)
    return Delivery(
        event_id=event_id, destination=where, state=DeliveryState.PENDING, next_attempt_at=NOW
    )


async def _seed(uow_factory: SqlUnitOfWorkFactory, count: int, channels: int = 1) -> None:
    async with uow_factory() as uow:
        for n in range(count):
            await uow.outbox.add(OutboxEvent(EventKind.RUN_MISSED, "demo", NOW, {"n": n}))
        events = await uow.outbox.pending(limit=count)
        for n, event in enumerate(events):
            assert event.id is not None
            channel = f"C{n % channels + 1}"
            await uow.deliveries.add_many([_delivery(event.id, channel)] * 2)  # once only
            await uow.outbox.mark_fanned_out(event.id, NOW)
        await uow.commit()


async def _claim(
    uow_factory: SqlUnitOfWorkFactory, at: datetime, limit: int = 10, per_destination: int = 10
) -> list[Delivery]:
    async with uow_factory() as uow:
        got = await uow.deliveries.claim_due(
            at, LEASE, limit=limit, per_destination=per_destination
        )
        await uow.commit()
    return list(got)


async def test_racing_claimers_never_share_a_delivery(uow_factory: SqlUnitOfWorkFactory) -> None:
    await _seed(uow_factory, 40, channels=40)

    async def claim() -> list[int]:
        got = await _claim(uow_factory, NOW, limit=15)
        return [d.id for d in got if d.id is not None]

    batches = await asyncio.gather(claim(), claim(), claim())
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 15  # a claimer that lost every race may find nothing, not all of them
