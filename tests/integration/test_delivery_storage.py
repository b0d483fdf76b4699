"""Deliveries under racing claimers on SQLite and PostgreSQL (the rest of the repository's
behaviour is in tests/contract/test_deliveries.py, on every backend)."""

from __future__ import annotations

import asyncio

from storage import SqlUnitOfWorkFactory
from tests.contract import seeds
from tests.contract.seeds import NOW, seed


async def test_racing_claimers_never_share_a_delivery(uow_factory: SqlUnitOfWorkFactory) -> None:
    await seed(uow_factory, 40, channels=40)

    async def claim() -> list[int]:
        got = await seeds.claim(uow_factory, NOW, limit=15)
        return [d.id for d in got if d.id is not None]

    batches = await asyncio.gather(claim(), claim(), claim())
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 15  # a claimer that lost every race may find nothing, not all of them
