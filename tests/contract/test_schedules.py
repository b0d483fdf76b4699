"""Schedules, their fires, drafts, archives, quota counters and the outbox on every backend
(tests/contract)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.domain.events import EventKind, OutboxEvent
from core.domain.model import NewJob, Origin, OriginKind
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
from core.ports import UnitOfWorkFactory
from tests.contract.seeds import ALICE, CAROL, SPEC, T0, submitted_draft

WEEK = timedelta(days=7)


async def test_a_draft_round_trips_with_its_decisions(uow_factory: UnitOfWorkFactory) -> None:
    draft_id = await submitted_draft(uow_factory)
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


async def test_activating_a_new_version_stops_the_old_one(
    uow_factory: UnitOfWorkFactory,
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


async def test_kept_archives_and_pending_events(uow_factory: UnitOfWorkFactory) -> None:
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


async def test_a_stale_draft_save_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    draft_id = await submitted_draft(uow_factory)
    async with uow_factory() as uow:
        draft = await uow.drafts.get(draft_id)
        assert draft is not None
        draft.revision -= 1  # as if read before someone else's save
        with pytest.raises(StaleAction):
            await uow.drafts.save(draft)


async def test_quota_counters_increment_atomically_and_keep_fired_thresholds(
    uow_factory: UnitOfWorkFactory,
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


async def test_active_schedules_are_listed_by_target_and_old_versions_stay_readable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        old = await uow.schedules.activate("site-b", SPEC, None, T0, "console:alice")
        await uow.schedules.activate("site-a", SPEC, None, T0, "console:alice")
        await uow.schedules.activate("demo", SPEC, None, T0, "console:alice")
        new = await uow.schedules.activate("site-b", SPEC, 3, T0, "console:alice")
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.target for s in await uow.schedules.all_active()] == ["demo", "site-a", "site-b"]
        assert await uow.schedules.get(old.id) == old
        assert not await uow.schedules.is_active(old.id)
        assert await uow.schedules.is_active(new.id)
        missing = max(old.id, new.id) + 10
        assert await uow.schedules.get(missing) is None
        assert not await uow.schedules.is_active(missing)
        assert await uow.schedules.active("nowhere") is None


async def test_a_fire_is_recorded_once_and_the_latest_is_remembered(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        schedule = await uow.schedules.activate("demo", SPEC, None, T0, "console:alice")
        job = await uow.jobs.add(
            NewJob("demo", Origin(OriginKind.SCHEDULE, "", "", ""), None, "", T0)
        )
        assert await uow.fires.last(schedule.id) is None
        assert await uow.fires.record(schedule.id, T0, "queued", T0)
        assert not await uow.fires.record(schedule.id, T0, "skipped", T0)  # a retry
        later = T0 + timedelta(hours=1)
        assert await uow.fires.record(schedule.id, later, "missed", later)
        await uow.fires.attach_job(schedule.id, T0, job.id)
        await uow.fires.attach_job(schedule.id, T0 + timedelta(hours=2), job.id)  # no such fire
        await uow.commit()
    async with uow_factory() as uow:
        last = await uow.fires.last(schedule.id)
        assert last == later and last.tzinfo is not None
        assert not await uow.fires.record(schedule.id, later, "queued", later)
        assert await uow.fires.last(schedule.id + 1) is None


async def test_open_drafts_come_oldest_first_and_an_author_finds_the_newest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        ids = []
        for day in range(3):
            draft = await uow.drafts.add(
                NewDraft("demo", ALICE, "Alice", SPEC, T0 + timedelta(days=day), T0 + WEEK)
            )
            assert (draft.version, draft.revision, draft.state) == (1, 0, DraftState.OPEN)
            ids.append(draft.id)
        other = await uow.drafts.add(NewDraft("site", CAROL, "Carol", SPEC, T0, T0 + WEEK))
        withdrawn = await uow.drafts.get(ids[1])
        assert withdrawn is not None
        withdrawn.withdraw(T0)
        await uow.drafts.save(withdrawn)
        assert withdrawn.revision == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [d.id for d in await uow.drafts.open_drafts()] == [ids[0], ids[2], other.id]
        newest = await uow.drafts.open_by_author("demo", ALICE)
        assert newest is not None and newest.id == ids[2]
        assert await uow.drafts.open_by_author("demo", CAROL) is None
        reread = await uow.drafts.get(ids[1])
        assert reread is not None and (reread.state, reread.revision) == (DraftState.WITHDRAWN, 1)
        assert await uow.drafts.get(other.id + 1) is None


async def test_kept_archives_come_in_creation_order_and_deleted_ones_count_as_removed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        for hours, path in ((2, "/c"), (0, "/a"), (1, "/b"), (0, "/a2")):
            await uow.archives.add(
                ArchiveRecord(0, 1, "demo", path, 10**hours, T0 + timedelta(hours=hours))
            )
        gone = await uow.archives.add(ArchiveRecord(0, 1, "demo", "/gone", 7, T0 - WEEK))
        await uow.archives.add(ArchiveRecord(0, 1, "other", "/x", 1_000, T0))
        await uow.archives.mark_deleted(gone.id, T0 + timedelta(minutes=5))
        await uow.commit()
    async with uow_factory() as uow:
        assert [a.path for a in await uow.archives.kept("demo")] == ["/a", "/a2", "/b", "/c"]
        assert await uow.archives.growth("demo", T0) == (1 + 1 + 10 + 100, 7)
        assert await uow.archives.growth("demo", T0 + timedelta(hours=3)) == (0, 0)
        assert await uow.archives.kept("nothing") == []


async def test_quota_counters_start_at_zero_and_a_target_without_them_is_left_alone(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.quotas.set_fired("nothing-yet", frozenset({80}))  # no counters: nothing
        assert await uow.quotas.get("nothing-yet") is None
        usage = await uow.quotas.adjust("demo", "s3", 500, 2, T0)
        assert (usage.storage, usage.used_bytes, usage.archive_count) == ("s3", 500, 2)
        assert (usage.fired, usage.updated_at) == (frozenset(), T0)
        usage = await uow.quotas.adjust("demo", "local", -200, -1, T0 + WEEK)
        assert (usage.storage, usage.used_bytes, usage.archive_count) == ("s3", 300, 1)
        assert usage.updated_at == T0 + WEEK
        fresh = await uow.quotas.reset("fresh", "local", 42, 3, T0)
        assert (fresh.used_bytes, fresh.archive_count, fresh.fired) == (42, 3, frozenset())
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.quotas.get("fresh") == fresh
        assert await uow.quotas.get("demo") == usage


async def test_pending_events_come_oldest_first_fifty_at_a_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        for n in range(120):
            await uow.outbox.add(OutboxEvent(EventKind.RUN_MISSED, "demo", T0, {"n": n}))
        await uow.commit()
    async with uow_factory() as uow:
        first = await uow.outbox.pending()
        assert [e.payload["n"] for e in first] == list(range(50))
        every = await uow.outbox.pending(limit=500)
        assert [e.payload["n"] for e in every] == list(range(120))
        for event in every[:70]:
            assert event.id is not None
            await uow.outbox.mark_fanned_out(event.id, T0 + WEEK)
        await uow.commit()
    async with uow_factory() as uow:
        assert [e.payload["n"] for e in await uow.outbox.pending(limit=500)] == list(range(70, 120))
        assert every[0].id is not None
        done = await uow.outbox.get(every[0].id)
        assert done is not None and done.delivered_at == T0 + WEEK and done.payload == {"n": 0}
        assert await uow.outbox.get(max(e.id or 0 for e in every) + 1) is None
