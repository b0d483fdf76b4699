"""The action log read by pages for `audit --what actions` (keyset after the last time and
id), on the fakes, SQLite and PostgreSQL: every entry of the period once, in time order, past
one page, and only the target's when one is given."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from core.domain.model import AuditEntry
from core.ports import UnitOfWorkFactory
from tests.contract.seeds import T0, audit_line

ENTRIES = 25
PAGE = 10  # two and a half pages


async def _seed(uow_factory: UnitOfWorkFactory) -> None:
    entries = [
        replace(
            audit_line(f"a{n}", T0 + timedelta(minutes=n)), target="demo" if n % 3 else "site-a"
        )
        for n in range(ENTRIES)
    ]
    async with uow_factory() as uow:
        await uow.audit.append_many(entries)
        await uow.commit()


async def _walk(uow_factory: UnitOfWorkFactory, target: str | None = None) -> list[AuditEntry]:
    since, until = T0 + timedelta(minutes=1), T0 + timedelta(minutes=ENTRIES - 1)
    seen: list[AuditEntry] = []
    after: tuple[datetime, int] | None = None
    while True:
        async with uow_factory(read_only=True) as uow:
            page = await uow.audit.page(since, until, target=target, after=after, limit=PAGE)
        assert len(page) <= PAGE
        if not page:
            return seen
        seen.extend(page)
        after = (page[-1].at, page[-1].id or 0)


async def test_pages_walk_every_entry_of_the_period_once_in_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _seed(uow_factory)

    seen = await _walk(uow_factory)

    # The first and the last entry fall outside [since, until).
    assert [e.action for e in seen] == [f"a{n}" for n in range(1, ENTRIES - 1)]
    ids = [e.id for e in seen]
    assert ids == sorted(set(ids))  # type: ignore[type-var]
    assert seen[0].at == T0 + timedelta(minutes=1) and seen[0].actor == "console:bob"
    async with uow_factory(read_only=True) as uow:
        counted = await uow.audit.count(T0 + timedelta(minutes=1), T0 + timedelta(minutes=24))
    assert counted == len(seen) == ENTRIES - 2


async def test_pages_of_one_target_hold_only_its_entries(uow_factory: UnitOfWorkFactory) -> None:
    await _seed(uow_factory)

    seen = await _walk(uow_factory, target="site-a")

    assert [e.action for e in seen] == [f"a{n}" for n in range(3, ENTRIES - 1, 3)]
    async with uow_factory(read_only=True) as uow:
        counted = await uow.audit.count(
            T0 + timedelta(minutes=1), T0 + timedelta(minutes=24), target="site-a"
        )
    assert counted == len(seen)


async def test_entries_of_the_same_instant_are_neither_lost_nor_repeated_across_pages(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Time order, then id: a page boundary inside one instant (a batch of the writer) keeps
    going from the next id of that instant."""
    entries = [audit_line(f"b{n}", T0 + timedelta(minutes=5 + n // 8)) for n in range(24)]
    async with uow_factory() as uow:
        await uow.audit.append_many(entries)
        await uow.commit()

    seen = await _walk(uow_factory)

    assert [e.action for e in seen] == [f"b{n}" for n in range(24)]
