"""Where each principal stands with the guided tour (D1), on every backend (tests/contract):
offered once (a unique insert, so two first commands at once offer it once), a skip or a
finish remembered, per principal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.domain.model import Principal
from core.domain.tour import TourState
from core.ports import UnitOfWorkFactory

AT = datetime(2026, 12, 4, 3, 30, 0, 123456, tzinfo=UTC)  # microseconds must round-trip
ALICE = Principal("slack", "T1", "U1")
ALICE_ELSEWHERE = Principal("slack", "T2", "U1")  # same user id, another workspace
BOB = Principal("console", "", "bob")


async def test_the_tour_is_offered_once_per_principal(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.tours.get(ALICE) is None
        assert await uow.tours.offer(ALICE, AT)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.tours.offer(ALICE, AT + timedelta(hours=1))
        assert await uow.tours.offer(ALICE_ELSEWHERE, AT)
        assert await uow.tours.offer(BOB, AT)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        record = await uow.tours.get(ALICE)
        assert record is not None
        assert (record.principal, record.state) == (ALICE, TourState.OFFERED)
        assert record.offered_at == AT and record.updated_at == AT  # the loser changed nothing
        assert (await uow.tours.get(BOB)) is not None


async def test_skipping_and_finishing_are_remembered(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.tours.offer(ALICE, AT)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.tours.end(ALICE, TourState.SKIPPED, AT + timedelta(minutes=1))
        record = await uow.tours.get(ALICE)  # seen in the same transaction
        assert record is not None and record.state is TourState.SKIPPED
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.tours.offer(ALICE, AT + timedelta(minutes=2))  # no second offer
        await uow.tours.end(BOB, TourState.FINISHED, AT)  # `tour` typed before any offer
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        alice, bob = await uow.tours.get(ALICE), await uow.tours.get(BOB)
        assert alice is not None and alice.state is TourState.SKIPPED
        assert alice.offered_at == AT and alice.updated_at == AT + timedelta(minutes=1)
        assert bob is not None and bob.state is TourState.FINISHED
        assert await uow.tours.get(ALICE_ELSEWHERE) is None


async def test_an_offer_not_committed_is_not_kept(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.tours.offer(ALICE, AT)  # and then rolled back
    async with uow_factory() as uow:
        assert await uow.tours.offer(ALICE, AT)
        await uow.commit()


async def test_two_first_offers_at_once_offer_once(uow_factory: UnitOfWorkFactory) -> None:
    async def offer() -> bool:
        async with uow_factory() as uow:
            first = await uow.tours.offer(BOB, AT)
            await uow.commit()
            return first

    results = await asyncio.gather(*(offer() for _ in range(4)))
    assert sorted(results) == [False, False, False, True]
