"""The dispatcher (C1): outbox → deliveries → platform senders, at each destination's pace.

A claim loop fans waiting events out (core/delivery/fanout.py) and claims due deliveries under a
lease, a few dozen per destination, none for a destination another worker is sending to. Each
destination then has one worker task that sends its deliveries in event order, paced by the
destination's token bucket (core/delivery/pacing.py), while outcomes are written back in batches.

- **Once**: each post carries the delivery's key; a claim that was never settled (a crash, a
  timeout) makes the next attempt ask the platform for that key before posting again.
- **Failures**: a short "retry after" is waited in place; a destination's queue stops at its
  first failure and goes back to the table (order kept), the failed delivery after an
  exponential backoff with jitter, until `MAX_ATTEMPTS`; a failure no retry can fix goes
  straight to the dead letters, and the admins are told (at most once an hour).
- **Grouping**: repeats of a (target, kind) within the window reply in the first alert's
  thread, and the first alert is redrawn with the count.
- **Storms**: past `digest_per_minute` posts in a minute, whatever waits for a destination
  leaves as one digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from core.app.platforms import Platforms
from core.delivery.fanout import MAX_ATTEMPTS, backoff, fan_out
from core.delivery.model import AlertThread, Delivery
from core.delivery.pacing import Pacer
from core.delivery.senders import (
    DeliveryError,
    MaybeDelivered,
    MessageRef,
    PermanentFailure,
    RetryAfter,
    Sender,
    SenderKey,
)
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import Job
from core.domain.schedules import DraftState
from core.domain.subscriptions import AlertKind, Destination, Severity, classify
from core.i18n import Translator
from core.ports import Charts, Clock, UnitOfWork, UnitOfWorkFactory
from core.safety.redaction import redact
from core.support.background import stop, wait_for_wake
from core.support.lifecycle import Lifecycle
from core.support.log_context import bind, detached, log_context
from core.support.telemetry import NO_TELEMETRY, Telemetry
from core.views.alerts import (
    AlertSettings,
    alert_message,
    digest_message,
    performance_chart,
    with_repeats,
)
from core.views.jobs import job_message
from core.views.message import Message, Tone

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a claimed delivery is retried if not settled by then
CLAIM_BATCH = 10_000
PER_DESTINATION = 30  # claimed at once for one destination: ~30 s of Slack's pace
MAX_QUEUED = 20_000  # claimed and not yet sent, in this process
WAIT_IN_PLACE = 30.0  # a "retry after" up to this long is waited by the worker (order kept)
SETTLE_WINDOW = 0.2  # outcomes gathered this long are written in one transaction
DIGEST_LIMIT = 50  # alerts folded into one digest at most
ADMIN_NOTICE_EVERY = timedelta(hours=1)
MESSAGE_CACHE = 2000  # rendered events kept: one alert fanned out to 500 channels renders once


@dataclass(frozen=True)
class _Rendered:
    """An event's message, and what grouping needs to know about it."""

    message: Message
    event: OutboxEvent
    alert: tuple[AlertKind, Severity] | None


class Retry(Enum):
    """Why deliveries go back to the table: whether that spent one of `MAX_ATTEMPTS`, and
    whether the message may be out there already (then the next attempt asks first)."""

    WAIT = (False, False)  # asked to wait, or queued behind a delivery that was
    FAILED = (True, False)  # the platform refused it; a retry may do better
    MAYBE_DELIVERED = (True, True)  # sent, outcome unknown (a timeout)
    OUR_BUG = (False, True)  # this process failed mid-send: not the destination's fault

    def __init__(self, spends_attempt: bool, maybe_sent: bool) -> None:
        self.spends_attempt = spends_attempt
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class _Outcome:
    delivery: Delivery
    sent: MessageRef | None = None
    job_id: int | None = None
    draft_id: int | None = None  # a review alert: the draft's card, redrawn when decided
    retry_at: datetime | None = None
    attempts: int = 0
    error: str = ""
    dead: bool = False
    surely_unsent: bool = True


class Dispatcher(Lifecycle):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        senders: Mapping[SenderKey, Sender],
        alerts: AlertSettings,
        *,
        platforms: Platforms,
        pacer: Pacer | None = None,
        poll_seconds: float = 0.5,
        lease: timedelta = LEASE,
        telemetry: Telemetry = NO_TELEMETRY,
        charts: Charts | None = None,
        draft_card: Callable[[int], Awaitable[Message | None]] | None = None,
        on_draft_expired: Callable[[int], object] | None = None,
    ) -> None:
        """`senders` are keyed by platform and workspace (a bot serves its own workspaces);
        `platforms` say whom a person can be messaged on, and how the bot is invoked there.
        Deliveries, rate limits and dead letters are counted in `telemetry`. `draft_card`
        draws a draft as it reads now: a review alert posted as (or after) its draft was
        decided is redrawn with it. `on_draft_expired` hears of each draft that expired (its
        cards are redrawn: an expiry is no command, so no handler asks for it)."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._senders = dict(senders)
        self._alerts = alerts
        self._platforms = platforms
        self.pacer = pacer or Pacer()
        self._poll = poll_seconds
        self._lease = lease
        self._telemetry = telemetry
        self._charts = charts  # draws a performance alert's chart, for platforms that upload it
        self._draft_card = draft_card
        self._on_draft_expired = on_draft_expired
        self._queues: dict[Destination, deque[Delivery]] = {}
        self._workers: dict[Destination, asyncio.Task[None]] = {}
        self._posted_at: dict[Destination, deque[float]] = {}  # recent posts, for digests
        self._threads: dict[tuple[Destination, str, str], AlertThread | None] = {}
        self._thread_saves: dict[tuple[Destination, str, str], AlertThread] = {}
        self._rendered: dict[tuple[int, bool, str, str], asyncio.Future[_Rendered | None]] = {}
        self._outcomes: list[_Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._settling = 0
        self._last_admin_notice: datetime | None = None
        self._notice_written: datetime | None = None  # in the transaction being written
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(), name="dispatcher"),
            asyncio.create_task(self._settle_loop(), name="dispatcher-settle"),
        ]

    async def _stop(self) -> None:
        await stop(*self._tasks, *self._workers.values())
        self._tasks = []
        with contextlib.suppress(Exception):  # what was sent is written, if the database lets us
            await self._write_outcomes()

    def wake(self) -> None:
        """Something was written to the outbox: go now rather than at the next poll."""
        self._wake.set()

    @property
    def busy(self) -> bool:
        """Deliveries claimed here are still being sent or settled."""
        return bool(self._workers or self._outcomes or self._settling)

    async def run_once(self) -> int:
        """One claim round: fan out, claim, hand each destination's share to its worker.
        Returns how many deliveries were claimed."""
        async with self._uow_factory(read_only=True) as uow:
            # Most rounds find nothing: look before taking the write lock.
            idle = not await uow.outbox.pending(limit=1) and not await uow.deliveries.due(
                self._clock.now(), limit=1
            )
        if idle:
            return 0
        handled: list[OutboxEvent] = []
        async with self._uow_factory() as uow:
            await fan_out(
                uow, self._clock.now(), chat_platforms=self._platforms.chat, handled=handled
            )
            await uow.commit()
        if self._on_draft_expired is not None:
            for event in handled:
                draft = event.payload.get("draft")
                if event.kind is EventKind.DRAFT_EXPIRED and isinstance(draft, int):
                    self._on_draft_expired(draft)
        room = MAX_QUEUED - sum(len(q) for q in self._queues.values())
        if room <= 0:
            return 0
        async with self._uow_factory() as uow:
            claimed = await uow.deliveries.claim_due(
                self._clock.now(),
                self._lease,
                limit=min(CLAIM_BATCH, room),
                per_destination=PER_DESTINATION,
            )
            await uow.commit()
        for delivery in claimed:
            where = delivery.destination
            self._queues.setdefault(where, deque()).append(delivery)
            if where not in self._workers:
                self._workers[where] = asyncio.create_task(self._work(where), context=detached())
        return len(claimed)

    async def drain(self) -> None:
        """Claim and send until nothing is due or in flight (tests and benchmarks)."""
        while await self.run_once() or self.busy:  # noqa: ASYNC110 - polls the table too
            await asyncio.sleep(0.01)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: the next round retries
                log.exception("dispatch round failed")
            self._wake.clear()
            await wait_for_wake(self._wake, self._poll)

    # -- one destination ---------------------------------------------------------------

    async def _work(self, where: Destination) -> None:
        bind(platform=where.platform, workspace=where.workspace)  # this worker task's lines
        queue = self._queues[where]
        try:
            while queue:
                batch = [queue.popleft()]
                if self._storming(where):
                    while queue and len(batch) < DIGEST_LIMIT:
                        batch.append(queue.popleft())
                try:
                    retry_at = await self._send(where, batch)
                except Exception:  # a bug must not leave the rest claimed until the lease ends
                    log.exception("sending to %s failed", where.key)
                    retry_at = self._retry_after(
                        batch, "internal error", backoff(1), why=Retry.OUR_BUG
                    )
                if retry_at is not None:  # order: what waits goes back with it, due with it
                    self._retry_at(list(queue), "waiting behind a failed alert", retry_at)
                    queue.clear()
        finally:
            del self._queues[where]
            del self._workers[where]

    def _storming(self, where: Destination) -> bool:
        limit = self._alerts.digest_per_minute
        if limit <= 0:
            return False
        recent = self._posted_at.get(where)
        if recent is None:
            return False
        while recent and recent[0] < time.monotonic() - 60:
            recent.popleft()
        return len(recent) >= limit

    async def _send(self, where: Destination, batch: list[Delivery]) -> datetime | None:
        """Send one delivery (or a digest of several). Returns when to try again if it
        failed: the destination's queue stops there."""
        sender = self._senders.get(SenderKey.of(where))
        if sender is None:
            for d in batch:
                self._dead(d, f"nothing in this bot sends to {where.key}")
            return None
        rendered: list[tuple[Delivery, _Rendered]] = []
        for d in batch:
            found = await self._render(sender, d)
            if found is None:
                self._dead(d, "the event or its job is gone")
            else:
                rendered.append((d, found))
        if not rendered or await self._recalled(sender, rendered):
            return None
        bucket = self.pacer.bucket(where)
        first = rendered[0][1]
        target = first.event.target if first.event.target != "*" else None
        while True:
            await bucket.take()
            try:
                with log_context(target=target, job_id=first.message.job_id):
                    ref = await self._post(sender, where, rendered)
            except RetryAfter as limited:
                self._telemetry.rate_limited(where.platform)
                bucket.pause(limited.seconds)
                if limited.seconds <= WAIT_IN_PLACE:
                    continue  # same delivery again, after the pause: order is kept
                waiting = [d for d, _ in rendered]
                return self._retry_after(
                    waiting, limited.detail, timedelta(seconds=limited.seconds)
                )
            except DeliveryError as failed:
                return self._failed([d for d, _ in rendered], failed)
            except Exception as error:  # a sender's bug or an unexpected network error
                log.exception("sender for %s raised", where.key)
                unexpected = MaybeDelivered(f"unexpected {type(error).__name__}")
                return self._failed([d for d, _ in rendered], unexpected)
            finally:
                bucket.answered()
            break
        self._posted_at.setdefault(where, deque()).append(time.monotonic())
        now = self._clock.now()
        for d, r in rendered:
            self._telemetry.delivered(where.platform, (now - r.event.created_at).total_seconds())
            draft = _draft_of(r) if len(rendered) == 1 else None  # a digest is no card
            self._settle(_Outcome(d, sent=ref, job_id=r.message.job_id, draft_id=draft))
        return None

    async def _recalled(self, sender: Sender, rendered: list[tuple[Delivery, _Rendered]]) -> bool:
        """After a crash or a timeout, find the message an earlier attempt may have posted:
        at the top of the channel, or in the thread of its (target, kind)."""
        first, r = rendered[0]
        if len(rendered) != 1 or first.unsettled_since is None:
            return False
        where, since = first.destination, first.unsettled_since - timedelta(seconds=5)
        try:
            if first.private:
                found = await sender.recall_private(where.channel, first.key, since)
            else:
                found = await sender.recall(where.channel, first.key, since)
                thread = None
                if found is None and r.alert is not None and self._groups(sender):
                    thread = await self._thread(where, r.event.target, r.alert[0].value)
                if thread is not None:
                    found = await sender.recall(
                        thread.head.channel, first.key, since, thread_id=thread.head.message_id
                    )
        except DeliveryError as error:  # can't tell: posting again beats losing the alert
            log.warning("could not look for delivery %s: %s", first.id, redact(error.detail))
            return False
        if found is None:
            return False
        log.info("delivery %s was already posted before a restart", first.id)
        self._settle(_Outcome(first, sent=found, job_id=r.message.job_id, draft_id=_draft_of(r)))
        return True

    async def _post(
        self, sender: Sender, where: Destination, rendered: list[tuple[Delivery, _Rendered]]
    ) -> MessageRef:
        if len(rendered) > 1:
            digest = digest_message(Translator("en"), [r.message for _, r in rendered])
            key = " ".join(d.key for d, _ in rendered)
            return await self._post_plain(sender, where, rendered[0][0], digest, key)
        delivery, r = rendered[0]
        if delivery.private or r.alert is None or not self._groups(sender):
            return await self._post_plain(sender, where, delivery, r.message, delivery.key)
        kind = r.alert[0].value
        thread = await self._thread(where, r.event.target, kind)
        now = self._clock.now()
        if thread is None or now - thread.last_at > self._alerts.group_window:
            ref = await sender.post(where.channel, r.message, key=delivery.key)
            self._remember(AlertThread(where, r.event.target, kind, r.event.id or 0, ref, 1, now))
            return ref
        ref = await sender.reply(thread.head, r.message, key=delivery.key)
        grown = replace(thread, count=thread.count + 1, last_at=now)
        self._remember(grown)
        await self._redraw_head(sender, grown)
        return ref

    async def _post_plain(
        self, sender: Sender, where: Destination, delivery: Delivery, message: Message, key: str
    ) -> MessageRef:
        if delivery.private:
            return await sender.private(where.channel, message, key=key)
        return await sender.post(where.channel, message, key=key)

    def _groups(self, sender: Sender) -> bool:
        return sender.threads and self._alerts.group_window > timedelta(0)

    async def _redraw_head(self, sender: Sender, thread: AlertThread) -> None:
        """The first alert shows how many followed. An edit is not a new message, so the
        channel's posting pace does not apply; it is cosmetic, so a failure is only logged."""
        if not sender.edits:
            return
        head = await self._render_event(thread.event_id, private=False, platform="")
        if head is None:
            return
        redrawn = with_repeats(Translator("en"), head.message, thread.count, thread.last_at)
        try:
            await sender.update(thread.head, redrawn)
        except DeliveryError as failed:
            log.info("could not redraw alert %s: %s", thread.head.message_id, redact(failed.detail))

    async def _thread(self, where: Destination, target: str, kind: str) -> AlertThread | None:
        key = (where, target, kind)
        if key not in self._threads:
            async with self._uow_factory(read_only=True) as uow:
                self._threads[key] = await uow.alert_threads.get(where, target, kind)
        return self._threads[key]

    def _remember(self, thread: AlertThread) -> None:
        self._threads[(thread.destination, thread.target, thread.kind)] = thread
        self._thread_saves[(thread.destination, thread.target, thread.kind)] = thread
        self._outcome_ready.set()

    # -- rendering -----------------------------------------------------------------------

    async def _render(self, sender: Sender, delivery: Delivery) -> _Rendered | None:
        """Channels read English; a person reads their own language (F4)."""
        where = delivery.destination
        locale = "en"
        if delivery.private:
            try:
                locale = await sender.locale_of(where.channel)
            except DeliveryError:
                log.info("no locale for %s: English", where.key)
        return await self._render_event(
            delivery.event_id, private=delivery.private, platform=where.platform, locale=locale
        )

    async def _render_event(
        self, event_id: int, *, private: bool, platform: str, locale: str = "en"
    ) -> _Rendered | None:
        cache_key = (event_id, private, platform, locale)
        pending = self._rendered.get(cache_key)
        if pending is None:  # the first asker reads; the others (500 channels) wait for it
            pending = asyncio.ensure_future(
                self._read_and_render(event_id, private, platform, locale)
            )
            if len(self._rendered) >= MESSAGE_CACHE:
                self._rendered.pop(next(iter(self._rendered)))
            self._rendered[cache_key] = pending
        return await asyncio.shield(pending)

    async def _read_and_render(
        self, event_id: int, private: bool, platform: str, locale: str
    ) -> _Rendered | None:
        async with self._uow_factory(read_only=True) as uow:
            event = await uow.outbox.get(event_id)
            job = await _job_of(uow, event)
        if event is None:
            return None
        t = Translator(locale)
        rendered = self._message(t, event, job, private, platform)
        if rendered is not None and self._charts is not None:
            rendered = await self._with_chart(t, rendered)
        return rendered

    async def _with_chart(self, t: Translator, rendered: _Rendered) -> _Rendered:
        """A performance alert's chart drawn into its image (Discord attaches the bytes; Slack
        and Teams fetch the same chart from its signed link)."""
        message = rendered.message
        if rendered.alert is None or rendered.alert[0] is not AlertKind.PERFORMANCE:
            return rendered
        drawn = performance_chart(t, rendered.event) if message.images else None
        if drawn is None or self._charts is None:
            return rendered
        png = await asyncio.to_thread(self._charts.draw, drawn)
        images = tuple(replace(i, data=png) for i in message.images[:1]) + message.images[1:]
        return replace(rendered, message=replace(message, images=images))

    def _message(
        self, t: Translator, event: OutboxEvent, job: Job | None, private: bool, platform: str
    ) -> _Rendered | None:
        alert = classify(event)
        if alert is not None:
            message = alert_message(t, event, *alert, self._alerts, self._clock.now(), job)
            return _Rendered(message, event, alert)
        if event.kind is EventKind.DELIVERY_DEAD:
            return _Rendered(
                _admin_notice(t, event, self._platforms.prefix(platform, "alerts")), event, None
            )
        if private and job is not None:
            # C3: a cancelled job too
            return _Rendered(job_message(t, job, now=self._clock.now()), event, None)
        return None

    # -- outcomes ------------------------------------------------------------------------

    def _failed(self, batch: list[Delivery], failed: DeliveryError) -> datetime | None:
        attempts = batch[0].attempts + 1
        if isinstance(failed, PermanentFailure) or attempts >= MAX_ATTEMPTS:
            for d in batch:
                self._dead(d, failed.detail, attempts)
            return None
        why = Retry.MAYBE_DELIVERED if isinstance(failed, MaybeDelivered) else Retry.FAILED
        return self._retry_after(batch, failed.detail, backoff(attempts), why=why)

    def _retry_after(
        self,
        batch: Sequence[Delivery],
        error: str,
        delay: timedelta,
        *,
        why: Retry = Retry.WAIT,
    ) -> datetime:
        """Back to the table, due `delay` from now; see `_retry_at`."""
        return self._retry_at(batch, error, self._clock.now() + delay, why=why)

    def _retry_at(
        self,
        batch: Sequence[Delivery],
        error: str,
        at: datetime,
        *,
        why: Retry = Retry.WAIT,
    ) -> datetime:
        """Back to the table, due `at`, for the reason `why` (see `Retry`)."""
        spent = 1 if why.spends_attempt else 0
        for d in batch:
            self._settle(
                _Outcome(
                    d,
                    retry_at=at,
                    attempts=d.attempts + spent,
                    error=error,
                    # An earlier unsettled claim stays a "maybe posted" until we know.
                    surely_unsent=not why.maybe_sent and d.unsettled_since is None,
                )
            )
        return at

    def _dead(self, delivery: Delivery, error: str, attempts: int | None = None) -> None:
        error = redact(error)  # a platform's error may quote the URL it refused, token and all
        log.warning("delivery %s to %s is dead: %s", delivery.id, delivery.destination.key, error)
        self._telemetry.dead_letter(delivery.destination.platform)
        tried = delivery.attempts if attempts is None else attempts
        self._settle(_Outcome(delivery, dead=True, attempts=tried, error=error))

    def _settle(self, outcome: _Outcome) -> None:
        self._outcomes.append(outcome)
        self._outcome_ready.set()

    async def _settle_loop(self) -> None:
        while True:
            await self._outcome_ready.wait()
            await asyncio.sleep(SETTLE_WINDOW)  # let a few more gather: one commit for all
            self._outcome_ready.clear()
            try:
                settled = await self._write_outcomes()
            except asyncio.CancelledError:
                raise
            except Exception:  # kept for the next turn; the lease guards meanwhile
                log.exception("could not record delivery outcomes")
                await asyncio.sleep(1)
                self._outcome_ready.set()
                continue
            if settled:
                self.wake()  # their destinations may take the next ones now

    async def _write_outcomes(self) -> int:
        outcomes, self._outcomes = self._outcomes, []
        threads, self._thread_saves = self._thread_saves, {}
        if not outcomes and not threads:
            return 0
        self._settling += 1
        self._notice_written = None
        try:
            async with self._uow_factory() as uow:
                await self._record_sent(uow, [o for o in outcomes if o.sent is not None])
                for outcome in outcomes:
                    if outcome.sent is None:
                        await self._record(uow, outcome)
                for thread in threads.values():
                    await uow.alert_threads.save(thread)
                await uow.commit()
            if self._notice_written is not None:  # remembered once it is surely written
                self._last_admin_notice = self._notice_written
            await self._redraw_decided([o for o in outcomes if o.draft_id and o.sent])
        except BaseException:
            self._outcomes[:0] = outcomes
            self._thread_saves = {**threads, **self._thread_saves}
            raise
        finally:
            self._settling -= 1
        return len(outcomes)

    async def _record_sent(self, uow: UnitOfWork, sent: list[_Outcome]) -> None:
        """The common case, in two statements however many there are."""
        now = self._clock.now()
        await uow.deliveries.mark_sent_many(
            [(o.delivery.id or 0, o.sent.message_id if o.sent else "") for o in sent], now
        )
        # Replies in an alert's thread then find its job (B3).
        await uow.posted.record_many(
            [
                PostedMessage(
                    o.delivery.destination.platform,
                    o.delivery.destination.workspace,
                    o.sent.channel,
                    o.sent.message_id,
                    PostedKind.ALERT,
                    now,
                    job_id=o.job_id,
                    draft_id=o.draft_id,
                )
                for o in sent
                if o.sent is not None and o.sent.message_id
            ]
        )

    async def _redraw_decided(self, cards: list[_Outcome]) -> None:
        """Review alerts are redrawn by the draft's listeners once it is decided, but only
        those already written down: one posted while (or after) its draft was decided would
        keep buttons that act no more. Such a card is redrawn here, once written down."""
        if not cards or self._draft_card is None:
            return
        async with self._uow_factory(read_only=True) as uow:
            states = {o.draft_id: await uow.drafts.get(o.draft_id) for o in cards if o.draft_id}
        for outcome in cards:
            draft = states.get(outcome.draft_id or 0)
            if draft is None or draft.state is DraftState.SUBMITTED or outcome.sent is None:
                continue
            card = await self._draft_card(draft.id or 0)
            sender = self._senders.get(SenderKey.of(outcome.delivery.destination))
            if card is None or sender is None or not sender.edits:
                continue
            try:
                await sender.update(outcome.sent, card)
            except DeliveryError as failed:
                log.info("could not redraw draft #%s's alert: %s", draft.id, redact(failed.detail))

    async def _record(self, uow: UnitOfWork, outcome: _Outcome) -> None:
        d, now = outcome.delivery, self._clock.now()
        assert d.id is not None
        if outcome.dead:
            await uow.deliveries.mark_dead(d.id, outcome.attempts, redact(outcome.error)[:1000])
            await self._tell_admins(uow, outcome, now)
        else:
            assert outcome.retry_at is not None
            await uow.deliveries.retry_at(
                d.id,
                outcome.retry_at,
                outcome.attempts,
                redact(outcome.error)[:1000],
                surely_unsent=outcome.surely_unsent,
            )

    async def _tell_admins(self, uow: UnitOfWork, outcome: _Outcome, now: datetime) -> None:
        """Once an hour at most, and never about a notice to the admins themselves."""
        last = self._notice_written or self._last_admin_notice
        if last is not None and now - last < ADMIN_NOTICE_EVERY:
            return
        event = await uow.outbox.get(outcome.delivery.event_id)
        if event is None or event.kind is EventKind.DELIVERY_DEAD:
            return
        self._notice_written = now
        await uow.outbox.add(
            OutboxEvent(
                EventKind.DELIVERY_DEAD,
                "*",
                now,
                {
                    "delivery": outcome.delivery.id,
                    "destination": outcome.delivery.destination.key,
                    "error": redact(outcome.error)[:300],
                },
            )
        )


def _draft_of(rendered: _Rendered) -> int | None:
    """The draft a review alert is the card of (its copies are redrawn once it is decided)."""
    event = rendered.event
    draft = event.payload.get("draft")
    if event.kind is EventKind.DRAFT_SUBMITTED and isinstance(draft, int):
        return draft
    return None


async def _job_of(uow: UnitOfWork, event: OutboxEvent | None) -> Job | None:
    job_id = event.payload.get("job") if event is not None else None
    return await uow.jobs.get(int(job_id)) if isinstance(job_id, int) else None


def _admin_notice(t: Translator, event: OutboxEvent, prefix: str) -> Message:
    """To the admins, in their platform's words (`/export alerts failed` on Slack)."""
    p = event.payload
    destination = str(p.get("destination", ""))
    title = t.t("delivery_dead.title")
    todo = t.t("delivery_dead.todo", prefix=prefix)
    return Message(
        title=title,
        status=t.t("severity.warning"),
        tone=Tone.WARNING,
        sections=(
            t.t("delivery_dead.why", destination=destination, error=p.get("error", "")),
            todo,
        ),
        summary=f"{title}. {todo}",
    )
