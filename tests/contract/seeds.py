"""Rows the contract suite and the SQL-only racing tests (tests/integration) both start from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.delivery.model import Delivery, DeliveryState
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import (
    AuditEntry,
    JobState,
    NewJob,
    Origin,
    OriginKind,
    Outcome,
    Principal,
)
from core.domain.schedules import NewDraft, Retention, ScheduleSpec
from core.domain.subscriptions import Destination
from core.ports import UnitOfWorkFactory

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ALICE = Principal("console", "", "alice")
CAROL = Principal("slack", "T1", "U2")
SPEC = ScheduleSpec("0 2 * * *", "Europe/Paris", Retention(keep_count=5), ("*.mp4", "logs/"))


def delivery(event_id: int, channel: str) -> Delivery:
    where = Destination("slack", "T1", channel)
    return Delivery(
        event_id=event_id, destination=where, state=DeliveryState.PENDING, next_attempt_at=NOW
    )


async def seed(uow_factory: UnitOfWorkFactory, count: int, channels: int = 1) -> None:
    """`count` fanned-out events, each with one delivery (written twice: kept once)."""
    async with uow_factory() as uow:
        for n in range(count):
            await uow.outbox.add(OutboxEvent(EventKind.RUN_MISSED, "demo", NOW, {"n": n}))
        events = await uow.outbox.pending(limit=count)
        for n, event in enumerate(events):
            assert event.id is not None
            channel = f"C{n % channels + 1}"
            await uow.deliveries.add_many([delivery(event.id, channel)] * 2)
            await uow.outbox.mark_fanned_out(event.id, NOW)
        await uow.commit()


async def claim(
    uow_factory: UnitOfWorkFactory, at: datetime, limit: int = 10, per_destination: int = 10
) -> list[Delivery]:
    async with uow_factory() as uow:
        got = await uow.deliveries.claim_due(
            at, LEASE, limit=limit, per_destination=per_destination
        )
        await uow.commit()
    return list(got)


async def submitted_draft(uow_factory: UnitOfWorkFactory) -> int:
    """A draft of alice's for `demo`, submitted for review."""
    async with uow_factory() as uow:
        draft = await uow.drafts.add(
            NewDraft("demo", ALICE, "Alice", SPEC, T0, T0 + timedelta(days=7))
        )
        draft.submit(T0, timedelta(days=7))
        await uow.drafts.save(draft)
        await uow.commit()
    return draft.id


JOB_TIME = datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC)  # sub-second, to see it kept
BOB = Principal("console", "", "bob")
JOB_ORIGIN = Origin(OriginKind.USER, "slack", "T1", "C9", channel_name="#ops", direct=True)


def new_job(target: str = "demo", at: datetime = JOB_TIME) -> NewJob:
    """A job bob asked for in #ops on Slack."""
    return NewJob(target, JOB_ORIGIN, BOB, "Bob", at)


def audit_line(action: str, at: datetime = JOB_TIME) -> AuditEntry:
    """An audit line of bob's `run demo` on the console, under `action`."""
    return AuditEntry(
        at,
        "console:bob",
        "bob",
        "console",
        "",
        "console",
        action,
        Outcome.OK,
        "demo",
        3,
        "run demo",
    )


async def finished_job(
    uow_factory: UnitOfWorkFactory,
    target: str,
    end: datetime,
    seconds: float,
    size: int | None,
    state: JobState = JobState.SUCCEEDED,
) -> int:
    """One job of `target` that ran `seconds` and ended at `end` (C6's daily averages)."""
    async with uow_factory() as uow:
        job = await uow.jobs.add(new_job(target, end - timedelta(seconds=seconds + 1)))
        job.transition(JobState.RUNNING, end - timedelta(seconds=seconds))
        job.transition(state, end)
        job.size_bytes = size
        await uow.jobs.save(job)
        await uow.commit()
    return job.id
