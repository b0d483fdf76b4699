"""The dispatcher (C1): outbox → deliveries → platform senders, at each destination's pace.

Each round fans waiting events out (core/dispatch.py), claims the deliveries that are due
under a lease, and sends them: in order within a destination, destinations side by side,
each destination paced by its token bucket (PLATFORMS.md: Slack ~1 message/s per channel).
A platform's "retry after" pauses that destination and retries without counting an
attempt; other failures back off exponentially with jitter until `MAX_ATTEMPTS`, and a
failure no retry can fix goes straight to the dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.alerts import AlertSettings, alert_message
from core.conversations import PostedKind, PostedMessage
from core.deliveries import Delivery, DeliveryState
from core.delivery import DeliveryError, MessageRef, RetryAfter, Sender
from core.dispatch import MAX_ATTEMPTS, backoff, fan_out
from core.i18n import Translator
from core.messages import Message
from core.ports import Clock, UnitOfWorkFactory
from core.subscriptions import Destination, classify
from core.views import job_message

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a claimed delivery is retried if not settled by then
BATCH = 200
PARALLEL = 32  # destinations sent to at once


@dataclass(frozen=True)
class Pace:
    """Messages per second a destination takes, and the burst it tolerates."""

    rate: float
    burst: int


PACES = {"slack": Pace(1.0, 1), "teams": Pace(1.0, 7), "discord": Pace(5.0, 5)}
DEFAULT_PACE = Pace(1.0, 1)


class TokenBucket:
    def __init__(self, pace: Pace) -> None:
        self._pace = pace
        self._tokens = float(pace.burst)
        self._stamp = time.monotonic()
        self._paused_until = 0.0

    async def take(self) -> None:
        """Wait until a message may go, then spend it."""
        while True:
            now = time.monotonic()
            self._tokens = min(
                self._pace.burst, self._tokens + (now - self._stamp) * self._pace.rate
            )
            self._stamp = now
            wait = max(self._paused_until - now, (1 - self._tokens) / self._pace.rate)
            if wait <= 0:
                self._tokens -= 1
                return
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """The platform said "retry after": nothing goes to this destination until then."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._tokens = min(self._tokens, 0.0)


class Dispatcher:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        senders: Mapping[str, Sender],
        alerts: AlertSettings,
        *,
        poll_seconds: float = 0.5,
    ) -> None:
        """`senders` are keyed `platform:workspace` (a bot serves its own workspaces)."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._senders = dict(senders)
        self._alerts = alerts
        self._poll = poll_seconds
        self._buckets: dict[Destination, TokenBucket] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Dispatcher:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="dispatcher")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Something was written to the outbox: go now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """One round: fan out, claim, send. Returns how many deliveries were settled."""
        async with self._uow_factory(read_only=True) as uow:
            # Most rounds find nothing: look before taking the write lock.
            idle = not await uow.outbox.pending(limit=1) and not await uow.deliveries.in_state(
                DeliveryState.PENDING, limit=1
            )
        if idle:
            return 0
        async with self._uow_factory() as uow:
            await fan_out(uow, self._clock.now())
            await uow.commit()
        async with self._uow_factory() as uow:
            claimed = await uow.deliveries.claim_due(self._clock.now(), LEASE, limit=BATCH)
            await uow.commit()
        by_destination: dict[Destination, list[Delivery]] = defaultdict(list)
        for delivery in claimed:
            by_destination[delivery.destination].append(delivery)
        gate = asyncio.Semaphore(PARALLEL)

        async def send_all(items: list[Delivery]) -> None:
            async with gate:
                for item in items:  # in event order: a channel reads its alerts in order
                    await self._deliver(item)

        await asyncio.gather(*(send_all(items) for items in by_destination.values()))
        return len(claimed)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: the next round retries
                log.exception("dispatch round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def _deliver(self, delivery: Delivery) -> None:
        assert delivery.id is not None
        where = delivery.destination
        sender = self._senders.get(f"{where.platform}:{where.workspace}")
        if sender is None:
            await self._settle_dead(delivery, f"nothing in this bot sends to {where.key}")
            return
        message = await self._message(delivery)
        if message is None:
            await self._settle_dead(delivery, "the event or its job is gone")
            return
        bucket = self._buckets.setdefault(
            where, TokenBucket(PACES.get(where.platform, DEFAULT_PACE))
        )
        await bucket.take()
        try:
            if delivery.private:
                ref = await sender.private(where.channel, message)
            else:
                ref = await sender.post(where.channel, message)
        except RetryAfter as limited:
            bucket.pause(limited.seconds)
            await self._settle_later(delivery, limited.seconds, delivery.attempts, limited.detail)
            return
        except DeliveryError as failed:
            attempts = delivery.attempts + 1
            if failed.permanent or attempts >= MAX_ATTEMPTS:
                await self._settle_dead(delivery, failed.detail, attempts)
            else:
                delay = backoff(attempts).total_seconds()
                await self._settle_later(delivery, delay, attempts, failed.detail)
            return
        await self._settle_sent(delivery, ref, message)

    async def _message(self, delivery: Delivery) -> Message | None:
        async with self._uow_factory(read_only=True) as uow:
            event = await uow.outbox.get(delivery.event_id)
            if event is None:
                return None
            job_id = event.payload.get("job")
            job = await uow.jobs.get(int(job_id)) if isinstance(job_id, int) else None
        t = Translator("en")
        alert = classify(event)
        if alert is not None:
            return alert_message(t, event, *alert, self._alerts, self._clock.now(), job)
        if delivery.private and job is not None:
            return job_message(t, job)  # C3: a cancelled job still tells its requester
        return None

    async def _settle_sent(self, delivery: Delivery, ref: MessageRef, message: Message) -> None:
        assert delivery.id is not None
        where = delivery.destination
        async with self._uow_factory() as uow:
            await uow.deliveries.mark_sent(delivery.id, ref.message_id, self._clock.now())
            # Replies in this alert's thread then find its job (B3).
            await uow.posted.record(
                PostedMessage(
                    where.platform,
                    where.workspace,
                    ref.channel,
                    ref.message_id,
                    PostedKind.ALERT,
                    self._clock.now(),
                    job_id=message.job_id,
                )
            )
            await uow.commit()

    async def _settle_later(
        self, delivery: Delivery, seconds: float, attempts: int, error: str
    ) -> None:
        assert delivery.id is not None
        at = self._clock.now() + timedelta(seconds=seconds)
        async with self._uow_factory() as uow:
            await uow.deliveries.retry_at(delivery.id, at, attempts, error[:1000])
            await uow.commit()

    async def _settle_dead(
        self, delivery: Delivery, error: str, attempts: int | None = None
    ) -> None:
        assert delivery.id is not None
        log.warning("delivery %s to %s is dead: %s", delivery.id, delivery.destination.key, error)
        async with self._uow_factory() as uow:
            await uow.deliveries.mark_dead(
                delivery.id, delivery.attempts if attempts is None else attempts, error[:1000]
            )
            await uow.commit()
