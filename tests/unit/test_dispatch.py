"""Fan-out (C1, C3) and backoff, on fakes."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.bootstrap import PLATFORMS
from core.delivery.fanout import backoff, fan_out
from core.domain.events import EventKind, OutboxEvent, job_ended_event
from core.domain.model import Origin, OriginKind
from core.domain.subscriptions import AlertKind, Destination, Severity, Subscription
from tests.examples import failed_job
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OPS = Destination("slack", "T1", "C0OPS")
QUIET = Destination("slack", "T1", "C0QUIET")

CHAT = PLATFORMS.chat  # the platforms a person can be messaged on


def _sub(where: Destination, target: str, severity: Severity) -> Subscription:
    return Subscription(where, target, frozenset(AlertKind), severity, "slack:T1:U1", NOW)


async def test_events_fan_out_to_subscribers_and_the_requester_once() -> None:
    store = FakeStore()
    async with FakeUnitOfWork(store) as uow:
        await uow.subscriptions.save(_sub(OPS, "*", Severity.INFO))
        await uow.subscriptions.save(_sub(QUIET, "demo", Severity.CRITICAL))
        for state in ("interrupted", "failed"):
            await uow.outbox.add(
                OutboxEvent(
                    EventKind.JOB_ENDED,
                    "demo",
                    NOW,
                    {"job": 1, "state": state, "requester": "slack:T1:U9", "origin": "user"},
                )
            )
        await uow.outbox.add(
            OutboxEvent(
                EventKind.JOB_ENDED,
                "demo",
                NOW,
                {"job": 2, "state": "cancelled", "requester": "console:alice", "origin": "user"},
            )
        )
        assert await fan_out(uow, NOW, chat_platforms=CHAT) == 3
        assert await fan_out(uow, NOW, chat_platforms=CHAT) == 0  # nothing left to fan out
        await uow.commit()
    got = [(d.event_id, d.destination.channel, d.private) for d in store.state.deliveries]
    assert got == [
        (1, "C0OPS", False),  # interrupted is a warning: the quiet channel wants critical only
        (1, "U9", True),
        (2, "C0OPS", False),
        (2, "C0QUIET", False),
        (2, "U9", True),
    ]  # event 3: cancelled alerts nobody, and console users get no direct message


async def test_the_requester_hears_of_a_resumes_end_not_of_the_stop_before_it() -> None:
    """E1: a person's run stopped before it started is relaunched; they are told once, when
    the resume ends, and a scheduled run's resume tells nobody privately."""
    store = FakeStore()
    payloads = [
        {"job": 1, "state": "interrupted", "requester": "slack:T1:U9", "origin": "user",
         "resumed_by": 2},
        {"job": 2, "state": "succeeded", "requester": "slack:T1:U9", "origin": "auto_resume"},
        {"job": 3, "state": "succeeded", "requester": None, "origin": "auto_resume"},
    ]  # fmt: skip
    async with FakeUnitOfWork(store) as uow:
        for payload in payloads:
            await uow.outbox.add(OutboxEvent(EventKind.JOB_ENDED, "demo", NOW, payload))
        await fan_out(uow, NOW, chat_platforms=CHAT)
        await uow.commit()
    got = [(d.event_id, d.destination.channel, d.private) for d in store.state.deliveries]
    assert got == [(2, "U9", True)]


async def test_fanning_out_again_after_a_crash_adds_no_second_delivery() -> None:
    store = FakeStore()
    async with FakeUnitOfWork(store) as uow:
        await uow.subscriptions.save(_sub(OPS, "demo", Severity.INFO))
        await uow.outbox.add(OutboxEvent(EventKind.RUN_MISSED, "demo", NOW, {}))
        await fan_out(uow, NOW, chat_platforms=CHAT)
        await uow.commit()
    # As if the process died after writing the deliveries but before marking the event.
    store.state.outbox = [replace(e, delivered_at=None) for e in store.state.outbox]
    async with FakeUnitOfWork(store) as uow:
        assert await fan_out(uow, NOW, chat_platforms=CHAT) == 1
        await uow.commit()
    assert len(store.state.deliveries) == 1


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    rng = random.Random(4)
    delays = [backoff(n, rng) for n in range(1, 12)]
    assert timedelta(seconds=1) <= delays[0] <= timedelta(seconds=2)
    assert timedelta(seconds=4) <= delays[2] <= timedelta(seconds=8)
    assert all(d <= timedelta(minutes=10) for d in delays)
    assert delays[-1] >= timedelta(minutes=5)


async def test_a_job_started_in_the_persons_own_chat_is_not_told_there_twice() -> None:
    """C3 tells the requester privately; when the job was started in their direct chat with
    the bot, its ended reply already lands there (seen in the Agents Playground, issue 13)."""
    job = replace(
        failed_job(NOW),
        origin=Origin(OriginKind.USER, "teams", "T1", "a:1personal", direct=True),
    )
    event = job_ended_event(job)
    assert event.payload["direct"] is True
    store = FakeStore()
    async with FakeUnitOfWork(store) as uow:
        await uow.subscriptions.save(_sub(OPS, "*", Severity.INFO))
        await uow.outbox.add(event)
        elsewhere = replace(job, origin=replace(job.origin, direct=False))
        await uow.outbox.add(job_ended_event(elsewhere))
        assert await fan_out(uow, NOW, chat_platforms=CHAT) == 2
        await uow.commit()
    got = [(d.event_id, d.destination.channel, d.private) for d in store.state.deliveries]
    assert got == [(1, "C0OPS", False), (2, "C0OPS", False), (2, "U1", True)]
