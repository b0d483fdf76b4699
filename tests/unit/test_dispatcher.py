"""The dispatcher (C1): outbox → deliveries → senders, on the in-memory fakes.

A `RecordingSender` stands in for a platform: it keeps what it is asked to post (with the
delivery key, so `recall` can find it again) and can be told to fail or hang on the next posts.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.delivery.dispatcher import PER_DESTINATION, Dispatcher
from core.delivery.model import Delivery, DeliveryState
from core.delivery.pacing import Pace, Pacer
from core.delivery.sender_keys import SenderKey
from core.delivery.senders import (
    DeliveryError,
    MaybeDelivered,
    MessageRef,
    PermanentFailure,
    RetryAfter,
    Sender,
    Upload,
)
from core.domain.capabilities import Role
from core.domain.conversations import PostedKind
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import CONFIG_GRANTOR, Grant, Job, JobState, Origin, OriginKind, Principal
from core.domain.subscriptions import ALL_KINDS, Destination, Severity, Subscription
from core.handlers.schedules import expire_drafts
from core.ports import UnitOfWorkFactory
from core.views.alerts import AlertSettings
from core.views.message import Field, Message
from tests.fakes import FakeStore
from tests.unit.conftest import console

OPS = Destination("slack", "T1", "C0OPS")
DEV = Destination("slack", "T1", "C0DEV")
ALL = Destination("slack", "T1", "C0ALL")
FAST = Pace(1000.0, 1000)  # no test waits a second per message


# -- a platform that remembers ------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    kind: str  # post, reply, private, update, recall, recall_private, upload
    where: str  # the channel, the user, or the parent (reply) / edited (update) message id
    title: str = ""
    key: str = ""
    fields: tuple[Field, ...] = ()
    failed: str = ""  # what the call raised, if it did
    at: float = 0.0  # time.monotonic()


@dataclass(frozen=True)
class _Step:
    error: DeliveryError | None = None
    posted: bool = False  # the platform kept the message before the error (answer lost)
    hang: bool = False  # the platform kept it, and the answer never comes


class RecordingSender:
    """Implements `core.delivery.senders.Sender`; scripted steps apply to the next posts (post,
    reply, private), in order."""

    def __init__(self, *, edits: bool = True, threads: bool = True) -> None:
        self.edits = edits
        self.threads = threads
        self.locales: dict[str, str] = {}  # user → the language they read
        self.calls: list[Call] = []
        self.kept: list[tuple[MessageRef, str]] = []  # what reached the platform, with its key
        self.hanging = asyncio.Event()
        self._steps: deque[_Step] = deque()
        self._ids = itertools.count(1)

    def fail_next(self, *errors: DeliveryError, posted: bool = False) -> None:
        self._steps.extend(_Step(error, posted) for error in errors)

    def succeed_next(self, count: int = 1) -> None:
        self._steps.extend(_Step() for _ in range(count))

    def hang_next(self) -> None:
        self._steps.append(_Step(posted=True, hang=True))

    def made(self, *kinds: str) -> list[Call]:
        return [c for c in self.calls if c.kind in kinds]

    def posted_keys(self) -> list[str]:
        """Keys of the posts that went through, in the order they were made."""
        return [c.key for c in self.made("post", "reply", "private") if not c.failed]

    # -- the protocol --

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef:
        return await self._deliver("post", channel, channel, "", message, key)

    async def reply(self, parent: MessageRef, message: Message, *, key: str = "") -> MessageRef:
        return await self._deliver(
            "reply", parent.message_id, parent.channel, parent.message_id, message, key
        )

    async def private(self, user_id: str, message: Message, *, key: str = "") -> MessageRef:
        return await self._deliver("private", user_id, f"D{user_id}", "", message, key)

    async def update(self, ref: MessageRef, message: Message) -> MessageRef:
        self.calls.append(Call("update", ref.message_id, message.title, "", message.fields))
        return ref

    async def recall(
        self, channel: str, key: str, since: datetime, *, thread_id: str = ""
    ) -> MessageRef | None:
        self.calls.append(Call("recall", thread_id or channel, key=key))
        return self._find(channel, key, thread_id)

    async def recall_private(self, user_id: str, key: str, since: datetime) -> MessageRef | None:
        self.calls.append(Call("recall_private", user_id, key=key))
        return self._find(f"D{user_id}", key, "")

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None:
        self.calls.append(Call("upload", channel, upload.title))

    async def locale_of(self, user_id: str) -> str:
        return self.locales.get(user_id, "en")

    # -- its memory --

    async def _deliver(
        self, kind: str, where: str, channel: str, thread: str, message: Message, key: str
    ) -> MessageRef:
        step = self._steps.popleft() if self._steps else _Step()
        failed = "hung" if step.hang else (step.error.detail if step.error else "")
        self.calls.append(
            Call(kind, where, message.title, key, message.fields, failed, time.monotonic())
        )
        if step.error is not None and not step.posted:
            raise step.error
        ref = MessageRef(channel, f"m{next(self._ids)}", thread)
        self.kept.append((ref, key))
        if step.hang:
            self.hanging.set()
            await asyncio.Event().wait()  # until the dispatcher is stopped (the process dies)
        if step.error is not None:
            raise step.error
        return ref

    def _find(self, channel: str, key: str, thread_id: str) -> MessageRef | None:
        """Like Slack's history: top-level messages in a channel, replies in their thread."""
        return next(
            (
                ref
                for ref, keys in self.kept
                if (ref.channel, ref.thread_id) == (channel, thread_id) and key in keys.split()
            ),
            None,
        )


# -- helpers -------------------------------------------------------------------------------


def _dispatcher(
    store: FakeStore,
    clock: FrozenClock,
    senders: RecordingSender | Mapping[SenderKey, Sender],
    *,
    uow_factory: UnitOfWorkFactory | None = None,
    **alerts: object,
) -> Dispatcher:
    """Digests off unless a test turns them on; grouping at its default window."""
    settings = AlertSettings(
        "https://bot.example.org",
        b"link-secret",
        **{"digest_per_minute": 0, **alerts},  # type: ignore[arg-type]
    )
    if isinstance(senders, RecordingSender):
        senders = {SenderKey("slack", "T1"): senders}
    pacer = Pacer({"slack": FAST, "discord": FAST, "webhook:slack": FAST})
    return Dispatcher(
        uow_factory or store.uow,
        clock,
        senders,
        settings,
        platforms=PLATFORMS,
        pacer=pacer,
        poll_seconds=0.05,
    )


async def _drain(dispatcher: Dispatcher) -> None:
    async with asyncio.timeout(10), dispatcher:
        await dispatcher.drain()  # leaving at once also stops it (see the last test)


async def _subscribe(store: FakeStore, clock: FrozenClock, *places: Destination) -> None:
    async with store.uow() as uow:
        for where in places:
            await uow.subscriptions.save(
                Subscription(where, "*", ALL_KINDS, Severity.INFO, "slack:T1:U1", clock.now())
            )
        await uow.commit()


async def _emit(store: FakeStore, *events: OutboxEvent) -> None:
    async with store.uow() as uow:
        for event in events:
            await uow.outbox.add(event)
        await uow.commit()


def _ended(
    clock: FrozenClock, target: str, job: int, state: str = "failed", *, requester: str = ""
) -> OutboxEvent:
    """A job's end; with a requester, a job a user started (who then hears of it, C3)."""
    payload = {"job": job, "state": state, "origin": "user" if requester else "schedule"}
    return OutboxEvent(
        EventKind.JOB_ENDED, target, clock.now(), {**payload, "requester": requester or None}
    )


def _missed(clock: FrozenClock, target: str) -> OutboxEvent:
    return OutboxEvent(EventKind.RUN_MISSED, target, clock.now(), {})


def _deliveries(store: FakeStore, where: Destination | None = None) -> list[Delivery]:
    found = [d for d in store.state.deliveries if where is None or d.destination == where]
    return sorted(found, key=lambda d: d.id or 0)


def _dead_notices(store: FakeStore) -> list[OutboxEvent]:
    return [e for e in store.state.outbox if e.kind is EventKind.DELIVERY_DEAD]


# -- 1. fan-out and sending ----------------------------------------------------------------


async def test_an_event_reaches_every_subscribed_channel_and_its_requester(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Each subscribed channel gets a post and the requester a direct message (C3); every
    delivery ends sent with the platform's message id, and channel posts are remembered as
    alerts of their job (B3)."""
    store.state.jobs[1] = Job(
        1,
        "demo",
        JobState.FAILED,
        Origin(OriginKind.USER, "slack", "T1", "C0OPS"),
        Principal("slack", "T1", "U9"),
        "nina",
        clock.now(),
        error="disk full",
    )
    await _subscribe(store, clock, OPS, DEV, ALL)
    await _emit(store, _ended(clock, "demo", 1, requester="slack:T1:U9"))
    sender = RecordingSender()

    await _drain(_dispatcher(store, clock, sender))

    assert sorted(c.where for c in sender.made("post")) == ["C0ALL", "C0DEV", "C0OPS"]
    [dm] = sender.made("private")
    assert dm.where == "U9" and dm.title == "Job #1 of demo failed"
    ids = {key: ref.message_id for ref, key in sender.kept}
    assert [(d.state, d.message_id) for d in _deliveries(store)] == [
        (DeliveryState.SENT, ids[d.key]) for d in _deliveries(store)
    ]
    assert len(ids) == 4
    remembered = {(p.channel, p.kind, p.job_id) for p in store.state.posted}
    assert {(c, PostedKind.ALERT, 1) for c in ("C0ALL", "C0DEV", "C0OPS")} <= remembered


async def test_a_direct_message_is_in_its_readers_language(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Channels read English; the requester's DM is rendered in the language they read (F4)."""
    await _subscribe(store, clock, OPS)
    await _emit(store, _ended(clock, "demo", 1, requester="slack:T1:U9"))
    sender = RecordingSender()
    sender.locales["U9"] = "fr"

    await _drain(_dispatcher(store, clock, sender))

    assert [c.title for c in sender.made("post")] == ["Job #1 of demo failed"]
    assert [c.title for c in sender.made("private")] == ["Le job #1 de demo a échoué"]


async def test_a_channel_gets_its_alerts_in_event_order(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Within a destination, alerts go out in event order, across more than one claim."""
    await _subscribe(store, clock, OPS)
    count = PER_DESTINATION + 5
    await _emit(store, *(_missed(clock, f"t{n:02}") for n in range(count)))
    sender = RecordingSender()

    await _drain(_dispatcher(store, clock, sender))

    deliveries = _deliveries(store, OPS)
    assert sender.posted_keys() == [d.key for d in sorted(deliveries, key=lambda d: d.event_id)]
    assert [c.title for c in sender.made("post")] == [
        f"A scheduled run of t{n:02} was missed" for n in range(count)
    ]
    assert {d.state for d in deliveries} == {DeliveryState.SENT}


# -- 3. grouping ---------------------------------------------------------------------------


async def test_repeats_reply_in_the_first_alerts_thread_which_shows_their_count(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Repeats of a (target, kind) within the window reply to the first alert, which is
    redrawn with a "Repeats" field counting them."""
    await _subscribe(store, clock, OPS)
    await _emit(store, *(_ended(clock, "demo", job) for job in (1, 2, 3)))
    sender = RecordingSender()

    await _drain(_dispatcher(store, clock, sender))

    assert [c.kind for c in sender.made("post", "reply", "update")] == [
        "post",
        "reply",
        "update",
        "reply",
        "update",
    ]
    [head] = sender.made("post")
    head_id = sender.kept[0][0].message_id
    assert head.title == "Job #1 of demo failed"
    assert [c.where for c in sender.made("reply", "update")] == [head_id] * 4
    last = sender.made("update")[-1]
    assert last.title == head.title
    [repeats] = [f for f in last.fields if f.label == "Repeats"]
    assert repeats.value.startswith("3 alerts like this one")
    assert [d.state for d in _deliveries(store)] == [DeliveryState.SENT] * 3
    [thread] = store.state.alert_threads.values()
    assert (thread.head.message_id, thread.count) == (head_id, 3)


async def test_without_a_window_every_repeat_is_its_own_post(
    store: FakeStore, clock: FrozenClock
) -> None:
    """`group_window=0` turns grouping off."""
    await _subscribe(store, clock, OPS)
    await _emit(store, *(_ended(clock, "demo", job) for job in (1, 2, 3)))
    sender = RecordingSender()

    await _drain(_dispatcher(store, clock, sender, group_window=timedelta(0)))

    assert len(sender.made("post")) == 3
    assert sender.made("reply", "update") == []


async def test_another_target_or_kind_starts_its_own_thread(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Grouping is per (target, kind): only the true repeat replies."""
    await _subscribe(store, clock, OPS)
    await _emit(
        store,
        _ended(clock, "demo", 1),
        _ended(clock, "site-a", 2),
        _ended(clock, "demo", 3, "interrupted"),
        _ended(clock, "demo", 4),
    )
    sender = RecordingSender()

    await _drain(_dispatcher(store, clock, sender))

    keys = [d.key for d in _deliveries(store)]
    assert [(c.kind, c.key) for c in sender.made("post", "reply")] == [
        ("post", keys[0]),
        ("post", keys[1]),
        ("post", keys[2]),
        ("reply", keys[3]),
    ]
    assert sender.made("reply")[0].where == sender.kept[0][0].message_id


async def test_a_repeat_after_the_window_starts_a_new_thread(
    store: FakeStore, clock: FrozenClock
) -> None:
    """The thread is kept in the store (another dispatcher finds it); a repeat later than
    the window after the last one is a new head."""
    await _subscribe(store, clock, OPS)
    sender = RecordingSender()
    await _emit(store, _ended(clock, "demo", 1))
    await _drain(_dispatcher(store, clock, sender))

    clock.advance(timedelta(minutes=10))
    await _emit(store, _ended(clock, "demo", 2))
    await _drain(_dispatcher(store, clock, sender))  # a restart in between
    assert [c.kind for c in sender.made("post", "reply")] == ["post", "reply"]

    clock.advance(timedelta(minutes=31))  # the window is 30 minutes
    await _emit(store, _ended(clock, "demo", 3))
    await _drain(_dispatcher(store, clock, sender))

    assert [c.kind for c in sender.made("post", "reply")] == ["post", "reply", "post"]
    [thread] = store.state.alert_threads.values()
    assert (thread.head.message_id, thread.count) == (sender.kept[-1][0].message_id, 1)


# -- 4. storms -----------------------------------------------------------------------------


async def test_past_the_storm_limit_the_rest_leaves_as_one_digest(
    store: FakeStore, clock: FrozenClock
) -> None:
    """With `digest_per_minute=3`, ten waiting alerts go as three posts then one digest of
    seven, which carries the seven delivery keys."""
    await _subscribe(store, clock, OPS)
    await _emit(store, *(_missed(clock, f"t{n}") for n in range(10)))
    sender = RecordingSender()

    await _drain(_dispatcher(store, clock, sender, digest_per_minute=3))

    deliveries = _deliveries(store)
    posts = sender.made("post")
    assert [c.key for c in posts[:3]] == [d.key for d in deliveries[:3]]
    assert len(posts) == 4
    digest = posts[3]
    assert digest.title == "7 alerts in the last minute"
    assert digest.key == " ".join(d.key for d in deliveries[3:])
    assert [d.state for d in deliveries] == [DeliveryState.SENT] * 10
    assert {d.message_id for d in deliveries[3:]} == {sender.kept[3][0].message_id}


# -- 5-7. failures -------------------------------------------------------------------------


async def test_a_short_retry_after_is_waited_in_place(store: FakeStore, clock: FrozenClock) -> None:
    """A "retry after" of 50 ms: the same delivery is tried again after the pause, no
    attempt is counted and the order is kept."""
    await _subscribe(store, clock, OPS)
    await _emit(store, *(_missed(clock, f"t{n}") for n in range(3)))
    sender = RecordingSender()
    sender.fail_next(RetryAfter(0.05))

    await _drain(_dispatcher(store, clock, sender))

    keys = [d.key for d in _deliveries(store)]
    calls = sender.made("post")
    assert [c.key for c in calls] == [keys[0], keys[0], keys[1], keys[2]]
    assert calls[0].failed and calls[1].at - calls[0].at >= 0.045
    assert sender.posted_keys() == keys
    assert [(d.state, d.attempts) for d in _deliveries(store)] == [(DeliveryState.SENT, 0)] * 3


async def test_a_transient_failure_sends_the_queue_back_in_order(
    store: FakeStore, clock: FrozenClock
) -> None:
    """A failure stops the destination's queue: the failed delivery counts an attempt, those
    behind it wait without one; once due, all go in event order."""
    await _subscribe(store, clock, OPS)
    await _emit(store, *(_missed(clock, f"t{n}") for n in range(3)))
    sender = RecordingSender()
    sender.fail_next(DeliveryError("500"))
    dispatcher = _dispatcher(store, clock, sender)

    await _drain(dispatcher)

    assert sender.posted_keys() == []
    first, *rest = _deliveries(store)
    assert (first.state, first.attempts, first.last_error) == (DeliveryState.PENDING, 1, "500")
    assert first.next_attempt_at > clock.now()
    assert [(d.state, d.attempts) for d in rest] == [(DeliveryState.PENDING, 0)] * 2

    clock.advance(timedelta(minutes=1))
    await _drain(dispatcher)

    assert sender.posted_keys() == [d.key for d in _deliveries(store)]
    assert [d.state for d in _deliveries(store)] == [DeliveryState.SENT] * 3


async def test_a_failures_text_is_stored_and_logged_only_redacted(
    store: FakeStore, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A platform's error may quote the URL it refused, token and all (G3)."""
    await _subscribe(store, clock, OPS)
    await _emit(store, _missed(clock, "t0"), _missed(clock, "t1"))
    leaked = "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/AbCdEfGhIjKlMnOpQrStUvWx"
    sender = RecordingSender()
    sender.fail_next(DeliveryError(f"500 from {leaked}"), PermanentFailure(f"gone: {leaked}"))
    dispatcher = _dispatcher(store, clock, sender)
    await _drain(dispatcher)
    clock.advance(timedelta(minutes=1))
    await _drain(dispatcher)

    errors = [d.last_error for d in _deliveries(store, OPS)]
    assert "gone: [redacted]" in errors, errors
    assert "AbCdEfGhIjKl" not in caplog.text


async def test_nothing_overtakes_a_delivery_that_failed_twice(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Order is kept across retries: what waited behind a failed delivery does not become due
    before it."""
    await _subscribe(store, clock, OPS)
    await _emit(store, *(_missed(clock, f"t{n}") for n in range(3)))
    sender = RecordingSender()
    sender.fail_next(DeliveryError("500"), DeliveryError("500"))
    dispatcher = _dispatcher(store, clock, sender)
    await _drain(dispatcher)
    clock.advance(timedelta(minutes=1))
    await _drain(dispatcher)  # second failure: the first is now 2-4 s away, the others 1-2 s
    first = _deliveries(store)[0]
    assert first.attempts == 2

    clock.advance(timedelta(seconds=2))
    await _drain(dispatcher)

    sent = sender.posted_keys()
    assert sent == [] or sent[0] == first.key, f"sent {sent} before {first.key}"


async def test_a_permanent_failure_is_a_dead_letter_and_the_admins_are_told_once_an_hour(
    store: FakeStore, clock: FrozenClock
) -> None:
    """A failure no retry can fix: dead with its error, the queue goes on; one notice to the
    global chat admins, none for another dead letter within the hour."""
    for who, target in [("U0ADMIN", None), ("U0SCOPED", "demo")]:
        store.state.grants.append(
            Grant(Principal("slack", "T1", who), Role.ADMIN, target, CONFIG_GRANTOR, clock.now())
        )
    store.state.grants.append(
        Grant(Principal("slack", "T1", "U0OP"), Role.OPERATOR, None, CONFIG_GRANTOR, clock.now())
    )
    await _subscribe(store, clock, OPS)
    await _emit(store, *(_missed(clock, f"t{n}") for n in range(3)))
    sender = RecordingSender()
    sender.fail_next(PermanentFailure("channel_not_found"))
    dispatcher = _dispatcher(store, clock, sender)

    await _drain(dispatcher)

    dead, *others = _deliveries(store, OPS)
    assert (dead.state, dead.attempts, dead.last_error) == (
        DeliveryState.DEAD,
        1,
        "channel_not_found",
    )
    assert [d.state for d in others] == [DeliveryState.SENT] * 2
    [notice] = _dead_notices(store)
    assert notice.payload["delivery"] == dead.id
    assert notice.payload["destination"] == "slack:T1:C0OPS"
    # Only the global admin on a chat platform (not console alice, a scoped admin, an operator)
    assert [(d.destination.channel, d.private, d.state) for d in _deliveries(store)[3:]] == [
        ("U0ADMIN", True, DeliveryState.SENT)
    ]
    [told] = sender.made("private")
    assert (told.where, told.title) == ("U0ADMIN", "Some alerts could not be delivered")

    clock.advance(timedelta(minutes=10))
    await _emit(store, _missed(clock, "t9"))
    sender.fail_next(PermanentFailure("channel_not_found"))
    await _drain(dispatcher)
    assert _deliveries(store)[-1].state is DeliveryState.DEAD
    assert len(_dead_notices(store)) == 1  # within the hour: not again

    clock.advance(timedelta(minutes=61))
    await _emit(store, _missed(clock, "t10"))
    sender.fail_next(PermanentFailure("channel_not_found"))
    await _drain(dispatcher)
    assert len(_dead_notices(store)) == 2


class _CommitFailsOnce:
    """A unit-of-work factory whose first commit marking a delivery dead fails (the database
    restarting), as the dispatcher's outcome writer may meet."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.failed = False

    def __call__(self, *, read_only: bool = False):  # type: ignore[no-untyped-def]
        uow = self._store.uow(read_only=read_only)
        commit = uow.commit

        async def flaky() -> None:
            dead = any(d.state is DeliveryState.DEAD for d in uow._state.deliveries)
            if dead and not self.failed:
                self.failed = True
                raise ConnectionError("the database is restarting")
            await commit()

        uow.commit = flaky  # type: ignore[method-assign]
        return uow


async def test_the_admins_are_told_even_if_the_first_write_of_the_dead_letter_fails(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Outcomes that could not be written are written again, the admins' notice with them."""
    await _subscribe(store, clock, OPS)
    await _emit(store, _missed(clock, "t0"))
    sender = RecordingSender()
    sender.fail_next(PermanentFailure("channel_not_found"))
    factory = _CommitFailsOnce(store)
    dispatcher = _dispatcher(store, clock, sender, uow_factory=factory)

    await _drain(dispatcher)

    assert factory.failed
    assert _deliveries(store, OPS)[0].state is DeliveryState.DEAD
    assert len(_dead_notices(store)) == 1


# -- 8. exactly once across a lost answer or a crash ---------------------------------------


async def test_a_post_whose_answer_was_lost_is_found_not_posted_again(
    store: FakeStore, clock: FrozenClock
) -> None:
    """A "maybe sent" failure keeps the claim unsettled; the next attempt asks the platform
    for the key, finds the post and settles it as sent with that id."""
    await _subscribe(store, clock, OPS)
    await _emit(store, _missed(clock, "t0"))
    sender = RecordingSender()
    sender.fail_next(MaybeDelivered("timeout"), posted=True)
    dispatcher = _dispatcher(store, clock, sender)

    await _drain(dispatcher)
    [delivery] = _deliveries(store)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert delivery.unsettled_since is not None

    clock.advance(timedelta(minutes=1))
    await _drain(dispatcher)

    assert [(c.kind, c.key) for c in sender.calls] == [
        ("post", delivery.key),
        ("recall", delivery.key),
    ]
    [delivery] = _deliveries(store)
    assert (delivery.state, delivery.message_id) == (DeliveryState.SENT, "m1")
    assert delivery.unsettled_since is None


async def test_when_the_platform_has_no_such_post_it_is_posted(
    store: FakeStore, clock: FrozenClock
) -> None:
    """An unsettled claim whose post never reached the platform: recall finds nothing, so
    the alert is posted."""
    await _subscribe(store, clock, OPS)
    await _emit(store, _missed(clock, "t0"))
    sender = RecordingSender()
    sender.fail_next(MaybeDelivered("timeout"))  # lost before the platform
    dispatcher = _dispatcher(store, clock, sender)

    await _drain(dispatcher)
    clock.advance(timedelta(minutes=1))
    await _drain(dispatcher)

    [delivery] = _deliveries(store)
    assert [c.kind for c in sender.calls] == ["post", "recall", "post"]
    assert len(sender.kept) == 1
    assert (delivery.state, delivery.message_id) == (
        DeliveryState.SENT,
        sender.kept[0][0].message_id,
    )


async def _crash_while_posting(
    store: FakeStore, clock: FrozenClock, sender: RecordingSender
) -> None:
    """A dispatcher whose post reaches the platform, and which dies before the answer."""
    sender.hang_next()
    dispatcher = _dispatcher(store, clock, sender)
    async with asyncio.timeout(5), dispatcher:
        await dispatcher.run_once()
        await sender.hanging.wait()
        await asyncio.sleep(0.02)  # as in _drain
    clock.advance(timedelta(minutes=5))  # past the lease


@pytest.mark.parametrize("private", [False, True], ids=["channel", "direct-message"])
async def test_after_a_crash_the_next_dispatcher_finds_the_post_by_its_key(
    store: FakeStore, clock: FrozenClock, private: bool
) -> None:
    """A claim never settled (the process died mid-post) is taken again after its lease; the
    new dispatcher recalls the post (privately for a DM) instead of posting twice."""
    if private:
        await _emit(store, _ended(clock, "demo", 1, requester="slack:T1:U9"))
    else:
        await _subscribe(store, clock, OPS)
        await _emit(store, _missed(clock, "t0"))
    sender = RecordingSender()
    await _crash_while_posting(store, clock, sender)
    [claimed] = _deliveries(store)
    assert claimed.state is DeliveryState.PENDING and claimed.unsettled_since is not None

    await _drain(_dispatcher(store, clock, sender))

    kinds = ("private", "recall_private") if private else ("post", "recall")
    assert [(c.kind, c.key) for c in sender.calls] == [(k, claimed.key) for k in kinds]
    [delivery] = _deliveries(store)
    assert (delivery.state, delivery.message_id) == (DeliveryState.SENT, "m1")


async def test_a_recalled_job_alert_is_remembered_with_its_job(
    store: FakeStore, clock: FrozenClock
) -> None:
    """An alert found by recall is remembered like a posted one: replies in its thread find
    its job (B3)."""
    await _subscribe(store, clock, OPS)
    await _emit(store, _ended(clock, "demo", 1))
    store.state.jobs[1] = Job(
        1, "demo", JobState.FAILED, Origin(OriginKind.SCHEDULE), None, "", clock.now()
    )
    sender = RecordingSender()
    await _crash_while_posting(store, clock, sender)

    await _drain(_dispatcher(store, clock, sender))

    assert [c.kind for c in sender.calls] == ["post", "recall"]
    assert [(p.channel, p.message_id, p.job_id) for p in store.state.posted] == [("C0OPS", "m1", 1)]


async def test_after_a_crash_a_repeat_posted_in_a_thread_is_found_there(
    store: FakeStore, clock: FrozenClock
) -> None:
    """A repeat lives in its first alert's thread: after a crash, recall looks there too."""
    await _subscribe(store, clock, OPS)
    await _emit(store, _ended(clock, "demo", 1), _ended(clock, "demo", 2))
    sender = RecordingSender()
    sender.succeed_next()  # the head
    await _crash_while_posting(store, clock, sender)  # its repeat: replied, answer lost
    head, repeat = _deliveries(store)
    assert head.state is DeliveryState.SENT and repeat.unsettled_since is not None

    await _drain(_dispatcher(store, clock, sender))  # a new process, within the window

    assert [c.key for c in sender.made("reply")] == [repeat.key]
    assert _deliveries(store)[1].message_id == sender.kept[1][0].message_id


# -- 9-10. senders -------------------------------------------------------------------------


async def test_a_destination_no_sender_serves_is_a_dead_letter(
    store: FakeStore, clock: FrozenClock
) -> None:
    """A platform or a workspace this bot does not speak for: dead at once, no attempt."""
    discord = Destination("discord", "G1", "C9")
    elsewhere = Destination("slack", "T2", "C0OTHER")
    await _subscribe(store, clock, OPS, discord, elsewhere)
    await _emit(store, _missed(clock, "t0"))
    sender = RecordingSender()

    await _drain(_dispatcher(store, clock, sender))

    for where in (discord, elsewhere):
        [d] = _deliveries(store, where)
        assert (d.state, d.attempts, d.last_error) == (
            DeliveryState.DEAD,
            0,
            f"nothing in this bot sends to {where.key}",
        )
    assert [d.state for d in _deliveries(store, OPS)] == [DeliveryState.SENT]
    assert [c.where for c in sender.made("post")] == ["C0OPS"]


async def test_a_sender_without_threads_posts_every_repeat(
    store: FakeStore, clock: FrozenClock
) -> None:
    """A webhook cannot reply or edit: repeats are posted as they come, nothing redrawn."""
    hook = Destination("webhook", "slack", "7")
    await _subscribe(store, clock, hook)
    await _emit(store, *(_ended(clock, "demo", job) for job in (1, 2, 3)))
    webhook = RecordingSender(edits=False, threads=False)

    await _drain(_dispatcher(store, clock, {SenderKey("webhook", "slack"): webhook}))

    assert [c.title for c in webhook.made("post")] == [
        f"Job #{job} of demo failed" for job in (1, 2, 3)
    ]
    assert webhook.made("reply", "update") == []
    assert [d.state for d in _deliveries(store)] == [DeliveryState.SENT] * 3


# -- shutdown ------------------------------------------------------------------------------


async def test_leaving_right_after_a_wake_stops_the_dispatcher(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Leaving the context stops the claim loop whatever it was doing (a job ended, an
    outcome was settled: something called `wake` a moment before shutdown)."""
    hung: list[int] = []
    for turns in range(8):  # how far the wake got before the cancel
        dispatcher = _dispatcher(store, clock, RecordingSender())
        await dispatcher.__aenter__()
        await asyncio.sleep(0.01)  # the claim loop waits for a wake or its poll
        dispatcher.wake()
        for _ in range(turns):
            await asyncio.sleep(0)
        leaving = asyncio.create_task(dispatcher.__aexit__(None, None, None))
        await asyncio.wait([leaving], timeout=0.5)
        if not leaving.done():
            hung.append(turns)
        while not leaving.done():  # clean up: cancel the claim loop again
            for task in asyncio.all_tasks():
                if task.get_name() == "dispatcher":
                    task.cancel()
            await asyncio.sleep(0.01)
    assert hung == [], f"still running after a wake {hung} loop turns before shutdown"


# -- review alerts: remembered with their draft, redrawn once it is decided (issue 17) --------


async def _submitted(service: CommandService) -> None:
    draft = 'schedule draft demo --cron "0 2 * * *" --tz UTC'
    await service.execute_text(draft, console("alice"))
    await service.execute_text("schedule submit #1", console("alice"))


async def test_a_review_alert_is_remembered_with_its_draft(
    store: FakeStore, clock: FrozenClock, service: CommandService
) -> None:
    await _subscribe(store, clock, OPS)
    await _submitted(service)
    sender = RecordingSender()
    dispatcher = _dispatcher(store, clock, sender)
    await _drain(dispatcher)
    assert [c.kind for c in sender.calls] == ["post"]  # still awaiting review: no redraw
    assert [(p.kind, p.draft_id, p.job_id) for p in store.state.posted] == [
        (PostedKind.ALERT, 1, None)
    ]


async def test_a_review_alert_posted_after_its_draft_was_decided_is_redrawn(
    store: FakeStore, clock: FrozenClock, service: CommandService
) -> None:
    await _subscribe(store, clock, OPS)
    await _submitted(service)
    await service.execute_text("schedule review #1 approve", console("carol"))
    sender = RecordingSender()
    dispatcher = Dispatcher(
        store.uow,
        clock,
        {SenderKey("slack", "T1"): sender},
        AlertSettings("https://bot.example.org", b"k", digest_per_minute=0),
        platforms=PLATFORMS,
        pacer=Pacer({"slack": FAST}),
        poll_seconds=0.05,
        draft_card=service.draft_card,
    )
    await _drain(dispatcher)
    posts = [c for c in sender.calls if c.kind == "post"]
    assert "Schedule draft #1 for demo awaits review" in posts[0].title
    [update] = [c for c in sender.calls if c.kind == "update"]
    assert update.where == "m1" and update.title == "Schedule draft #1 · demo · version 1"


async def test_an_expired_draft_is_announced_so_its_cards_are_redrawn(
    store: FakeStore, clock: FrozenClock, service: CommandService
) -> None:
    await _submitted(service)
    clock.advance(timedelta(days=8))
    async with store.uow() as uow:
        assert await expire_drafts(uow, clock) == [1]
        await uow.commit()
    expired: list[int] = []
    dispatcher = Dispatcher(
        store.uow,
        clock,
        {},
        AlertSettings("https://bot.example.org", b"k"),
        platforms=PLATFORMS,
        poll_seconds=0.05,
        on_draft_expired=expired.append,
    )
    await _drain(dispatcher)
    assert expired == [1]
