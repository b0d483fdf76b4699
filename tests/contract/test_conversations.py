"""Posted messages and inbound event claims on SQLite and PostgreSQL (B3, E2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.domain.conversations import PostedKind, PostedMessage
from core.ports import UnitOfWorkFactory

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _posted(ts: str, job_id: int | None, kind: PostedKind = PostedKind.JOB) -> PostedMessage:
    return PostedMessage("slack", "T1", "C9", ts, kind, T0, job_id=job_id)


async def test_a_posted_message_is_found_by_its_platform_id(
    uow_factory: UnitOfWorkFactory,
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
    uow_factory: UnitOfWorkFactory,
) -> None:
    async def claim() -> bool:
        async with uow_factory() as uow:
            first = await uow.inbound.claim("slack", "Ev0RACE", T0)
            await uow.commit()
            return first

    outcomes = await asyncio.gather(*(claim() for _ in range(5)), return_exceptions=True)
    # The losers either see the row (False) or lose at commit (an error): never a second True.
    assert [o for o in outcomes if o is True] == [True]


async def test_old_claims_are_forgotten(uow_factory: UnitOfWorkFactory) -> None:
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


async def test_posted_messages_recorded_past_a_statement_batch_are_kept_once_in_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """`record_many` goes out 1,000 rows a statement; duplicates are skipped, not refused."""
    messages = [_posted(f"1700.{n:05}", 7 if n % 2 else 8) for n in range(2_500)]
    async with uow_factory() as uow:
        await uow.posted.record(messages[1])
        await uow.posted.record_many(messages + messages[:10])
        await uow.posted.record_many([])
        await uow.commit()
    async with uow_factory() as uow:
        sevens = [m.message_id for m in await uow.posted.for_job(7, "slack")]
        assert sevens == [messages[1].message_id] + [
            m.message_id for m in messages if m.job_id == 7 and m != messages[1]
        ]
        assert len(await uow.posted.for_job(8, "slack")) == 1_250
        assert await uow.posted.for_job(7, "teams") == []
        found = await uow.posted.find("slack", "C9", "1700.02499")
        assert found is not None and found.id is not None and found.job_id == 7


async def test_a_conversation_reference_is_replaced_by_a_newer_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = {"serviceUrl": "http://127.0.0.1:1/", "conversation": {"id": "a:1"}}
    newer = {"serviceUrl": "http://127.0.0.1:2/", "conversation": {"id": "a:1"}, "n": [1, 2]}
    async with uow_factory() as uow:
        assert await uow.references.get("teams", "tenant", "a:1") is None
        await uow.references.save("teams", "tenant", "a:1", first, T0)
        await uow.references.save("teams", "other", "a:1", {"x": 1}, T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.references.get("teams", "tenant", "a:1") == first
        await uow.references.save("teams", "tenant", "a:1", newer, T0 + timedelta(hours=1))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.references.get("teams", "tenant", "a:1")
        assert got == newer
        got["serviceUrl"] = "changed by the reader"
        assert await uow.references.get("teams", "tenant", "a:1") == newer
        assert await uow.references.get("teams", "other", "a:1") == {"x": 1}
        assert await uow.references.get("slack", "tenant", "a:1") is None


async def test_a_drafts_cards_are_found_on_their_platform_oldest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.posted.record(
            PostedMessage("slack", "T1", "C1", "1.1", PostedKind.DRAFT, T0, draft_id=3)
        )
        await uow.posted.record(
            PostedMessage("slack", "T1", "C2", "1.2", PostedKind.ALERT, T0, draft_id=3)
        )
        await uow.posted.record(
            PostedMessage("teams", "t", "19:c", "9", PostedKind.ALERT, T0, draft_id=3)
        )
        await uow.posted.record(
            PostedMessage("slack", "T1", "C1", "1.3", PostedKind.DRAFT, T0, draft_id=4)
        )
        await uow.posted.record(_posted("1.4", 3))  # a job's card: job 3, not draft 3
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        found = await uow.posted.for_draft(3, "slack")
        assert [(m.channel, m.message_id, m.kind) for m in found] == [
            ("C1", "1.1", PostedKind.DRAFT),
            ("C2", "1.2", PostedKind.ALERT),
        ]
        assert [m.message_id for m in await uow.posted.for_draft(3, "teams")] == ["9"]
        assert await uow.posted.for_draft(5, "slack") == []
