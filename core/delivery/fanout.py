"""From outbox events to deliveries (C1, C3): who gets each event, and when to try again.

Fan-out runs in one transaction: an event's deliveries are written and the event is marked
fanned out together, so a crash either leaves the event to fan out again (writing the same
deliveries, which the unique key ignores) or leaves its deliveries waiting. Each delivery
is then tried, and retried with exponential backoff and jitter, until sent or dead.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from core.delivery.model import Delivery
from core.domain.capabilities import Role
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import Principal
from core.domain.subscriptions import Destination, classify
from core.ports import UnitOfWork

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=10)


def deliveries_for(
    event: OutboxEvent,
    destinations: list[Destination],
    now: datetime,
    admins: Sequence[Principal] = (),
    *,
    chat_platforms: Collection[str],
) -> list[Delivery]:
    """The channels that subscribed, plus (C3) the person who started an ended job, plus the
    admins when alerts could not be delivered; people only on `chat_platforms`, those a
    person can be messaged on (console users and the system cannot)."""
    assert event.id is not None
    event_id = event.id
    # A draft's review card is the reply in the conversation it was submitted from: a
    # subscription there must not post it a second time.
    shown_in = event.payload.get("shown_in")
    found = [
        Delivery(event_id=event_id, destination=d, next_attempt_at=now)
        for d in sorted(set(destinations))
        if d.key != shown_in
    ]
    if event.kind is EventKind.DELIVERY_DEAD:
        people = sorted({a for a in admins if a.platform in chat_platforms}, key=str)
        found.extend(
            Delivery(
                event_id=event_id,
                destination=Destination(a.platform, a.workspace, a.user_id),
                private=True,
                next_attempt_at=now,
            )
            for a in people
        )
    requester = event.payload.get("requester")
    origin = event.payload.get("origin")
    # A person's run relaunched by itself (E1) keeps its requester; a schedule's has none.
    started_by_hand = origin == "user" or (origin == "auto_resume" and bool(requester))
    # Started in the person's own chat with the bot: the ended reply is already there. And a
    # run stopped before it started is relaunched: the person hears of the resume's end.
    told_already = event.payload.get("direct") is True or "resumed_by" in event.payload
    if event.kind is EventKind.JOB_ENDED and requester and started_by_hand and not told_already:
        person = Principal.parse(str(requester))
        if person.platform in chat_platforms:
            dm = Destination(person.platform, person.workspace, person.user_id)
            found.append(
                Delivery(event_id=event_id, destination=dm, private=True, next_attempt_at=now)
            )
    return found


async def fan_out(
    uow: UnitOfWork,
    now: datetime,
    *,
    chat_platforms: Collection[str],
    limit: int = 100,
    handled: list[OutboxEvent] | None = None,
) -> int:
    """Turn waiting outbox events into deliveries; returns how many events were handled
    (and appends them to `handled`, when given). People are messaged only on
    `chat_platforms` (`Platforms.chat`)."""
    events = await uow.outbox.pending(limit=limit)
    if handled is not None:
        handled.extend(events)
    for event in events:
        assert event.id is not None
        destinations: list[Destination] = []
        alert = classify(event)
        if alert is not None:
            kind, severity = alert
            destinations = [
                s.destination
                for s in await uow.subscriptions.for_target(event.target)
                if s.wants(event.target, kind, severity)
            ]
        admins: list[Principal] = []
        if event.kind is EventKind.DELIVERY_DEAD:
            admins = [
                g.principal
                for g in await uow.grants.all()
                if g.role is Role.ADMIN and g.target is None
            ]
        found = deliveries_for(event, destinations, now, admins, chat_platforms=chat_platforms)
        await uow.deliveries.add_many(found)
        await uow.outbox.mark_fanned_out(event.id, now)
    return len(events)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential with full jitter: up to 2 s, 4 s, 8 s … capped at 10 minutes."""
    ceiling: timedelta = min(MAX_DELAY, BASE_DELAY * (2 ** max(0, attempts - 1)))
    factor: float = (rng or random).uniform(0.5, 1.0)
    return ceiling * factor
