"""Schedules, drafts, archives and the outbox on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.events import EventKind, OutboxEvent
from core.domain.model import Principal
from core.domain.schedules import (
    ArchiveRecord,
    Decision,
    DraftState,
    NewDraft,
    Retention,
    ScheduleSpec,
    Verdict,
)
from core.errors import StaleAction
from storage import SqlUnitOfWorkFactory

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ALICE = Principal("console", "", "alice")
CAROL = Principal("slack", "T1", "U2")
ERIN = Principal("slack", "T1", "U3")
SPEC = ScheduleSpec("0 2 * * *", "Europe/Paris", Retention(keep_count=5), ("*.mp4", "logs/"))


async def _submitted_draft(uow_factory: SqlUnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        draft = await uow.drafts.add(
            NewDraft("demo", ALICE, "Alice", SPEC, T0, T0 + timedelta(days=7))
        )
        draft.submit(T0, timedelta(days=7))
        await uow.drafts.save(draft)
        await uow.commit()
    return draft.id


async def test_a_draft_round_trips_with_its_decisions(uow_factory: SqlUnitOfWorkFactory) -> None:
    draft_id = await _submitted_draft(uow_factory)
    async with uow_factory() as uow:
        draft = await uow.drafts.get(draft_id)
        assert draft is not None and draft.state is DraftState.SUBMITTED and draft.revision == 1
        draft.decide(Decision(CAROL, "Carol", Verdict.APPROVE, 1, T0, "fine"), 1, quorum=2)
        await uow.drafts.save(draft)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.drafts.get(draft_id)
        assert loaded is not None
        assert loaded.spec == SPEC
        assert [(d.reviewer, d.verdict, d.comment) for d in loaded.decisions] == [
            (CAROL, Verdict.APPROVE, "fine")
        ]
        assert await uow.drafts.open_by_author("demo", ALICE) == loaded
        assert [d.id for d in await uow.drafts.open_drafts()] == [draft_id]


async def test_two_racing_approvals_activate_exactly_once(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """Two reviewers press Approve at the same moment on a draft that needs one approval."""
    draft_id = await _submitted_draft(uow_factory)
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


async def test_activating_a_new_version_stops_the_old_one(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        first = await uow.schedules.activate("demo", SPEC, None, T0, "console:alice")
        other = await uow.schedules.activate("site", SPEC, None, T0, "console:alice")
        second = await uow.schedules.activate(
            "demo", ScheduleSpec("0 4 * * *", "UTC"), 7, T0, "slack:T1:U2"
        )
        await uow.commit()
    async with uow_factory() as uow:
        active = await uow.schedules.active("demo")
        assert (first.version, second.version, other.version) == (1, 2, 1)
        assert active == second and active.spec.retention == Retention()
        assert {s.target for s in await uow.schedules.all_active()} == {"demo", "site"}


async def test_kept_archives_and_pending_events(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for index in range(3):
            await uow.archives.add(
                ArchiveRecord(
                    0,
                    index + 1,
                    "demo",
                    f"/a/{index}.tar.gz",
                    5_000_000_000,
                    T0 + timedelta(hours=index),
                )
            )
        await uow.archives.add(ArchiveRecord(0, 9, "demo", "/a/gone.tar.gz", 1, T0, deleted_at=T0))
        await uow.outbox.add(OutboxEvent(EventKind.JOB_ENDED, "demo", T0, {"job": 1}))
        await uow.commit()
    async with uow_factory() as uow:
        kept = await uow.archives.kept("demo")
        assert [a.path for a in kept] == ["/a/0.tar.gz", "/a/1.tar.gz", "/a/2.tar.gz"]
        assert kept[0].size_bytes == 5_000_000_000
        events = await uow.outbox.pending()
        assert [(e.kind, e.payload) for e in events] == [(EventKind.JOB_ENDED, {"job": 1})]


async def test_a_stale_draft_save_is_refused(uow_factory: SqlUnitOfWorkFactory) -> None:
    draft_id = await _submitted_draft(uow_factory)
    async with uow_factory() as uow:
        draft = await uow.drafts.get(draft_id)
        assert draft is not None
        draft.revision -= 1  # as if read before someone else's save
        with pytest.raises(StaleAction):
            await uow.drafts.save(draft)


async def test_quota_counters_increment_atomically_and_keep_fired_thresholds(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async def add(delta: int) -> None:
        async with uow_factory() as uow:
            await uow.quotas.adjust("demo", "local", delta, 1, T0)
            await uow.commit()

    await asyncio.gather(*(add(1_000_000_000) for _ in range(8)))  # concurrent writers
    async with uow_factory() as uow:
        usage = await uow.quotas.get("demo")
        assert usage is not None
        assert (usage.used_bytes, usage.archive_count) == (8_000_000_000, 8)
        await uow.quotas.set_fired("demo", frozenset({80, 90}))
        reset = await uow.quotas.reset("demo", "local", 42, 1, T0)
        await uow.commit()
    assert (reset.used_bytes, reset.archive_count, reset.fired) == (42, 1, frozenset({80, 90}))
    async with uow_factory() as uow:
        assert await uow.quotas.get("nothing-yet") is None
        added, removed = await uow.archives.growth("demo", T0)
        assert (added, removed) == (0, 0)
