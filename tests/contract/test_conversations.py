"""Posted messages and inbound event claims on SQLite and PostgreSQL (B3, E2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.domain.conversations import PostedKind, PostedMessage
from storage import SqlUnitOfWorkFactory

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _posted(ts: str, job_id: int | None, kind: PostedKind = PostedKind.JOB) -> PostedMessage:
    return PostedMessage("slack", "T1", "C9", ts, kind, T0, job_id=job_id)


async def test_a_posted_message_is_found_by_its_platform_id(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.posted.record(_posted("1700000001.000100", 7))
        await uow.posted.record(_posted("1700000001.000100", 7))  # a retried post: harmless
        await uow.posted.record(_posted("1700000002.000100", 7, PostedKind.NOTE))
        await uow.posted.record(_posted("1700000003.000100", 8))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.posted.find("slack", "C9", "1700000001.000100")
        assert found is not None and (found.job_id, found.kind) == (7, PostedKind.JOB)
        assert found.posted_at == T0
        assert await uow.posted.find("slack", "C8", "1700000001.000100") is None
        assert await uow.posted.find("discord", "C9", "1700000001.000100") is None
        ids = [m.message_id for m in await uow.posted.for_job(7, "slack")]
        assert ids == ["1700000001.000100", "1700000002.000100"]


async def test_racing_claims_of_one_event_let_exactly_one_through(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async def claim() -> bool:
        async with uow_factory() as uow:
            first = await uow.inbound.claim("slack", "Ev0RACE", T0)
            await uow.commit()
            return first

    outcomes = await asyncio.gather(*(claim() for _ in range(5)), return_exceptions=True)
    # The losers either see the row (False) or lose at commit (an error): never a second True.
    assert [o for o in outcomes if o is True] == [True]


async def test_old_claims_are_forgotten(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.inbound.claim("slack", "Ev0OLD", T0 - timedelta(days=2))
        assert await uow.inbound.claim("slack", "Ev0NEW", T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbound.forget_before(T0 - timedelta(days=1)) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbound.claim("slack", "Ev0OLD", T0)  # forgotten, so new again
        assert not await uow.inbound.claim("slack", "Ev0NEW", T0)
