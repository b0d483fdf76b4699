"""The dead-man's switch state of reported targets, on every backend (tests/contract): a
compare-and-set, so two judges that read the same state announce one change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain.deadman import Watch, WatchState
from core.ports import UnitOfWorkFactory

AT = datetime(2026, 12, 4, 3, 30, 0, 123456, tzinfo=UTC)  # microseconds must round-trip
OK = WatchState(Watch.OK, AT - timedelta(days=1))
MISSED = WatchState(Watch.MISSED, AT)
STUCK = WatchState(Watch.STUCK, AT + timedelta(hours=1), job_id=42)


async def test_the_first_state_is_inserted_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.watches.get("db") is None
        assert await uow.watches.replace("db", None, OK)
        await uow.commit()
    async with uow_factory() as uow:  # a second first look loses and changes nothing
        assert not await uow.watches.replace("db", None, WatchState(Watch.OK, AT))
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.watches.get("db") == OK
        assert await uow.watches.get("wp") is None  # per target


async def test_a_change_applies_only_over_the_state_it_was_judged_on(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.watches.replace("db", None, OK)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.watches.replace("db", OK, MISSED)
        await uow.commit()
    async with uow_factory() as uow:  # another judge that read OK too: too late
        assert not await uow.watches.replace("db", OK, MISSED)
        assert not await uow.watches.replace("db", WatchState(Watch.MISSED, AT - timedelta(1)), OK)
        assert await uow.watches.replace("db", MISSED, STUCK)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.watches.get("db") == STUCK


async def test_a_change_not_committed_is_not_kept(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.watches.replace("db", None, OK)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.watches.replace("db", OK, MISSED)  # and then rolled back
    async with uow_factory(read_only=True) as uow:
        assert await uow.watches.get("db") == OK
