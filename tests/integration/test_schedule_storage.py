"""Schedules, drafts, archives and the outbox on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

from core.domain.model import Principal
from core.domain.schedules import (
    Decision,
    Verdict,
)
from core.errors import StaleAction
from storage import SqlUnitOfWorkFactory
from tests.contract.seeds import CAROL, T0, submitted_draft

ERIN = Principal("slack", "T1", "U3")


async def test_two_racing_approvals_activate_exactly_once(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """Two reviewers press Approve at the same moment on a draft that needs one approval."""
    draft_id = await submitted_draft(uow_factory)
    both_read = asyncio.Barrier(2)

    async def approve(reviewer: Principal) -> str:
        async with uow_factory() as uow:
            draft = await uow.drafts.get(draft_id)
            assert draft is not None
            try:
                async with asyncio.timeout(1):
                    await both_read.wait()  # SQLite lets one writer in: the other waits
            except (TimeoutError, asyncio.BrokenBarrierError):
                pass
            try:
                if draft.decide(
                    Decision(reviewer, reviewer.user_id, Verdict.APPROVE, 1, T0), 1, quorum=1
                ):
                    await uow.drafts.save(draft)
                    await uow.schedules.activate("demo", draft.spec, draft.id, T0, reviewer.key)
                await uow.commit()
            except StaleAction:
                return "raced"
            except Exception as error:  # SQLite: the loser finds the draft closed
                return type(error).__name__
            return "activated"

    results = await asyncio.gather(approve(CAROL), approve(ERIN))
    # PostgreSQL: the loser's compare-and-set updates no row. SQLite: the loser waits for the
    # write lock and then finds the draft closed.
    assert results.count("activated") == 1
    assert set(results) - {"activated"} <= {"raced", "Conflict"}
    async with uow_factory() as uow:
        active = await uow.schedules.active("demo")
        assert active is not None and active.version == 1
        assert len(await uow.schedules.all_active()) == 1
