"""Deliveries on SQLite and PostgreSQL: fan-out written once, leases, racing claimers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.deliveries import Delivery, DeliveryState
from core.events import EventKind, OutboxEvent
from core.subscriptions import Destination
from storage import SqlUnitOfWorkFactory

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def _delivery(event_id: int, channel: str) -> Delivery:
    where = Destination("slack", "T1", channel)
    return Delivery(event_id, where, False, DeliveryState.PENDING, 0, NOW)


async def _seed(uow_factory: SqlUnitOfWorkFactory, count: int) -> None:
    async with uow_factory() as uow:
        for n in range(count):
            await uow.outbox.add(OutboxEvent(EventKind.RUN_MISSED, "demo", NOW, {"n": n}))
        events = await uow.outbox.pending(limit=count)
        for event in events:
            assert event.id is not None
            await uow.deliveries.add_many([_delivery(event.id, "C1"), _delivery(event.id, "C1")])
            await uow.outbox.mark_fanned_out(event.id, NOW)
        await uow.commit()


async def test_a_claimed_delivery_waits_for_its_lease_and_settles_once(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    await _seed(uow_factory, 1)
    async with uow_factory() as uow:
        assert await uow.outbox.pending() == []
        [claimed] = await uow.deliveries.claim_due(NOW, LEASE, limit=10)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.deliveries.claim_due(NOW + timedelta(seconds=1), LEASE, limit=10) == []
        [again] = await uow.deliveries.claim_due(NOW + LEASE, LEASE, limit=10)  # a crash
        assert again.id == claimed.id
        assert claimed.id is not None
        await uow.deliveries.mark_sent(claimed.id, "1700.1", NOW)
        await uow.commit()
    async with uow_factory() as uow:
        [sent] = await uow.deliveries.in_state(DeliveryState.SENT)
        assert sent.message_id == "1700.1"
        assert await uow.deliveries.claim_due(NOW + 2 * LEASE, LEASE, limit=10) == []


async def test_racing_claimers_never_share_a_delivery(uow_factory: SqlUnitOfWorkFactory) -> None:
    await _seed(uow_factory, 40)

    async def claim() -> list[int]:
        async with uow_factory() as uow:
            got = await uow.deliveries.claim_due(NOW, LEASE, limit=15)
            await uow.commit()
        return [d.id for d in got if d.id is not None]

    batches = await asyncio.gather(claim(), claim(), claim())
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids)) == 40
