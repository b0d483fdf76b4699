"""Deliveries on SQLite and PostgreSQL: fan-out written once, leases, racing claimers."""

from __future__ import annotations

from datetime import timedelta

from core.delivery.model import Delivery, DeliveryState
from core.domain.events import EventKind, OutboxEvent
from core.domain.subscriptions import Destination
from core.ports import UnitOfWorkFactory
from tests.contract.seeds import LEASE, NOW, claim, seed


async def test_a_claimed_delivery_waits_for_its_lease_and_settles_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, 1)
    async with uow_factory(read_only=True) as uow:
        assert await uow.outbox.pending() == []
    [claimed] = await claim(uow_factory, NOW)
    assert claimed.unsettled_since is None  # a first claim: nothing can have been posted
    assert await claim(uow_factory, NOW + timedelta(seconds=1)) == []
    [again] = await claim(uow_factory, NOW + LEASE)  # a crash: the lease ran out
    assert again.id == claimed.id
    assert again.unsettled_since == NOW  # the first attempt may have posted: look first
    [later] = await claim(uow_factory, NOW + 2 * LEASE)  # and again: still the first claim
    assert later.unsettled_since == NOW
    assert claimed.id is not None
    async with uow_factory() as uow:
        await uow.deliveries.mark_sent(claimed.id, "1700.1", NOW)
        await uow.commit()
    async with uow_factory() as uow:
        [sent] = await uow.deliveries.in_state(DeliveryState.SENT)
        assert sent.message_id == "1700.1"
    assert await claim(uow_factory, NOW + 3 * LEASE) == []


async def test_a_refused_attempt_forgets_its_claim_and_an_unanswered_one_keeps_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, 2, channels=2)
    first, second = await claim(uow_factory, NOW)
    assert first.id is not None and second.id is not None
    async with uow_factory() as uow:
        retry = NOW + timedelta(seconds=5)
        await uow.deliveries.retry_at(first.id, retry, 1, "429", surely_unsent=True)
        await uow.deliveries.retry_at(second.id, retry, 1, "timeout", surely_unsent=False)
        await uow.commit()
    refused, unanswered = await claim(uow_factory, NOW + timedelta(seconds=5))
    assert (refused.id, refused.unsettled_since) == (first.id, None)
    assert (unanswered.id, unanswered.unsettled_since) == (second.id, NOW)
    assert unanswered.attempts == 1 and unanswered.last_error == "timeout"


async def test_claims_take_a_few_per_destination_and_skip_one_being_sent_to(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, 12, channels=3)  # C1, C2, C3 four events each
    first = await claim(uow_factory, NOW, limit=100, per_destination=2)
    assert sorted(d.destination.channel for d in first) == ["C1", "C1", "C2", "C2", "C3", "C3"]
    for channel in ("C1", "C2", "C3"):  # each destination's oldest events first
        mine = [d.event_id for d in first if d.destination.channel == channel]
        assert mine == sorted(mine)
    # Their worker still holds them: nothing more for those destinations meanwhile.
    assert await claim(uow_factory, NOW + timedelta(seconds=1), limit=100) == []
    async with uow_factory() as uow:
        for d in first:
            if d.destination.channel == "C1":
                assert d.id is not None
                await uow.deliveries.mark_sent(d.id, "ts", NOW)
        await uow.commit()
    rest = await claim(uow_factory, NOW + timedelta(seconds=2), limit=100)
    assert [d.destination.channel for d in rest] == ["C1", "C1"]  # C1 is free again


async def test_a_claim_past_one_chunk_leases_every_delivery_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Claims lock and lease ids 1,000 at a time (issue 12: test each batch loop past a batch)."""
    await seed(uow_factory, 2_500, channels=50)

    claimed = await claim(uow_factory, NOW, limit=10_000, per_destination=100)

    assert len(claimed) == len({d.id for d in claimed}) == 2_500
    assert await claim(uow_factory, NOW + timedelta(seconds=1), limit=10_000) == []  # all leased
    again = await claim(uow_factory, NOW + LEASE, limit=10_000, per_destination=100)
    assert sorted(d.id for d in again) == sorted(d.id for d in claimed)  # type: ignore[type-var]


async def test_deliveries_fanned_out_past_a_statement_batch_are_written_once_and_sent_at_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """`add_many` and `mark_sent_many` go out 1,000 rows a statement (issue 12)."""
    await seed(uow_factory, 2_500, channels=7)
    async with uow_factory() as uow:
        pending = await uow.deliveries.in_state(DeliveryState.PENDING, limit=10_000)
        assert len(pending) == len({(d.event_id, d.destination) for d in pending}) == 2_500
        ids = [d.id for d in pending if d.id is not None]
        assert len(ids) == 2_500 and ids == sorted(ids)
        assert [d.id for d in await uow.deliveries.in_state(DeliveryState.PENDING)] == ids[:50]
        await uow.deliveries.add_many(pending)  # a fan-out retried after a crash: no change
        await uow.deliveries.mark_sent_many([(d, f"m{d}") for d in ids], NOW)
        await uow.deliveries.mark_sent_many([], NOW)
        await uow.commit()
    async with uow_factory() as uow:
        sent = await uow.deliveries.in_state(DeliveryState.SENT, limit=10_000)
        assert [(d.id, d.message_id) for d in sent] == [(d, f"m{d}") for d in ids]
        assert await uow.deliveries.in_state(DeliveryState.PENDING) == []


async def test_a_dead_delivery_comes_back_to_life_once_and_only_due_ones_are_due(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, 3, channels=3)
    async with uow_factory() as uow:
        first, second, third = await uow.deliveries.due(NOW, limit=10)
        assert first.id is not None and second.id is not None and third.id is not None
        await uow.deliveries.mark_dead(first.id, 5, "gone")
        await uow.deliveries.retry_at(second.id, NOW + LEASE, 1, "429", surely_unsent=True)
        await uow.commit()
    async with uow_factory() as uow:
        [dead] = await uow.deliveries.in_state(DeliveryState.DEAD)
        assert (dead.id, dead.attempts, dead.last_error) == (first.id, 5, "gone")
        assert [d.id for d in await uow.deliveries.due(NOW, limit=10)] == [third.id]
        assert await uow.deliveries.due(NOW, limit=0) == []
        assert not await uow.deliveries.revive(second.id, NOW)  # not dead
        assert await uow.deliveries.revive(first.id, NOW)
        assert not await uow.deliveries.revive(first.id, NOW)  # not dead any more
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.deliveries.in_state(DeliveryState.DEAD) == []
        due = await uow.deliveries.due(NOW + LEASE, limit=10)
        assert sorted(d.id or 0 for d in due) == sorted([first.id, second.id, third.id])
        [revived] = [d for d in due if d.id == first.id]
        assert (revived.attempts, revived.next_attempt_at) == (0, NOW)
        assert revived.unsettled_since is None


async def test_the_pending_deliveries_are_counted_per_platform_sent_and_dead_ones_not(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, 5, channels=2)  # five Slack deliveries
    async with uow_factory() as uow:
        await uow.outbox.add(OutboxEvent(EventKind.RUN_MISSED, "demo", NOW, {"n": "d"}))
        [event] = await uow.outbox.pending(limit=1)
        assert event.id is not None
        on_discord = Destination("discord", "G1", "42")
        await uow.deliveries.add_many(
            [Delivery(event_id=event.id, destination=on_discord, next_attempt_at=NOW)]
        )
        await uow.commit()
    sent, dead, *_ = await claim(uow_factory, NOW, per_destination=1)
    assert sent.id is not None and dead.id is not None
    async with uow_factory() as uow:
        await uow.deliveries.mark_sent(sent.id, "1700.1", NOW)
        await uow.deliveries.mark_dead(dead.id, 5, "channel_not_found")
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.deliveries.pending_by_platform() == {"slack": 3, "discord": 1}
