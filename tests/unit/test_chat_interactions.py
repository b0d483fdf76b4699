"""The chat interactions every platform shares (core/app/), on fakes: a surface that records
what it was asked to send, and the in-memory store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from core.app.announcer import JobEndAnnouncer, in_reply_chain
from core.app.deadline import within
from core.app.notes import discussed_at, job_of, note_or_command
from core.app.posts import PostBook
from core.app.presses import Disposition, disposition, form_instead, press, reason_form
from core.app.service import CommandService
from core.app.surface import ChatSurface, tell_privately
from core.clock import FrozenClock
from core.commands.actions import Press
from core.commands.forms import FormRef
from core.delivery.senders import DeliveryError, MessageRef
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.model import Job, JobState, Principal
from core.support.background import Background
from core.views.message import Message, ending
from tests.fakes import FakeStore
from tests.unit.conftest import console

PLATFORM = "console"  # the unit tests' people have their grants there
PREFIX = "/export "


@dataclass
class Sent:
    what: str  # "update", "reply", "private"
    workspace: str
    ref: MessageRef | None
    message: Message
    to: Principal | None = None


@dataclass
class FakeSurface:
    """Records every call, in order; a method named in `refusing` raises as a platform would.
    It agrees to nothing on its own: each test reads what was asked of it."""

    platform: str = PLATFORM
    locales: dict[str, str] = field(default_factory=dict)
    refusing: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    asked_locale: list[Principal] = field(default_factory=list)

    def _refuse(self, what: str) -> None:
        if what in self.refusing:
            raise DeliveryError(f"{what} refused")

    async def update(self, workspace: str, ref: MessageRef, message: Message) -> None:
        self._refuse("update")
        self.sent.append(Sent("update", workspace, ref, message))

    async def reply(self, workspace: str, parent: MessageRef, message: Message) -> MessageRef:
        self._refuse("reply")
        self.sent.append(Sent("reply", workspace, parent, message))
        return MessageRef(parent.channel, f"r{len(self.sent)}", parent.message_id)

    async def private(self, user: Principal, message: Message) -> MessageRef:
        self._refuse("private")
        self.sent.append(Sent("private", user.workspace, None, message, to=user))
        return MessageRef(f"dm-{user.user_id}", f"p{len(self.sent)}")

    async def locale_of(self, user: Principal) -> str:
        self.asked_locale.append(user)
        return self.locales.get(user.user_id, "en")


@pytest.fixture
def surface() -> FakeSurface:
    return FakeSurface()


def test_the_fake_surface_speaks_the_port() -> None:
    surface: ChatSurface = FakeSurface()  # mypy checks the fake against the Protocol
    assert surface.platform == PLATFORM


async def _ended_job(service: CommandService, store: FakeStore) -> Job:
    """Job #1 of `demo`, started and then cancelled by bob (an end the announcer tells)."""
    await service.execute_text("run demo", console("bob"))
    await press(service, "job.cancel", "1:0", console("bob"), prefix="")
    job = store.state.jobs[1]
    assert job.state is JobState.CANCELLED
    return job


async def _post(
    store: FakeStore,
    clock: FrozenClock,
    kind: PostedKind,
    message_id: str,
    job_id: int | None = 1,
) -> None:
    store.state.posted.append(
        PostedMessage(PLATFORM, "W1", "C1", message_id, kind, clock.now(), job_id=job_id)
    )


# -- the job-end announcer ------------------------------------------------------------------


async def test_a_jobs_end_redraws_its_card_then_says_how_it_ended_under_it(
    service: CommandService, store: FakeStore, clock: FrozenClock, surface: FakeSurface
) -> None:
    job = await _ended_job(service, store)
    await _post(store, clock, PostedKind.JOB, "m1")
    await JobEndAnnouncer(service, surface).announce(job)
    card = service.job_message(job)
    assert [(s.what, s.workspace, s.ref, s.message) for s in surface.sent] == [
        ("update", "W1", MessageRef("C1", "m1"), card),
        ("reply", "W1", MessageRef("C1", "m1"), ending(card)),
    ]


async def test_a_jobs_end_is_told_once_whoever_comes_second(
    service: CommandService, store: FakeStore, clock: FrozenClock, surface: FakeSurface
) -> None:
    job = await _ended_job(service, store)
    await _post(store, clock, PostedKind.JOB, "m1")
    announcer = JobEndAnnouncer(service, surface)
    await announcer.announce(job)
    await announcer.announce(job)
    assert [s.what for s in surface.sent] == ["update", "reply"]


async def test_a_job_with_no_card_on_the_platform_is_not_told_and_may_be_later(
    service: CommandService, store: FakeStore, clock: FrozenClock, surface: FakeSurface
) -> None:
    job = await _ended_job(service, store)
    await _post(store, clock, PostedKind.NOTE, "n1")  # a note is not a card
    announcer = JobEndAnnouncer(service, surface)
    await announcer.announce(job)
    assert surface.sent == []
    await _post(store, clock, PostedKind.JOB, "m1")  # its card remembered late
    await announcer.announce(job)
    assert [s.what for s in surface.sent] == ["update", "reply"]


async def test_the_card_is_redrawn_in_its_requesters_language(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    surface = FakeSurface(locales={"bob": "fr"})
    job = await _ended_job(service, store)
    await _post(store, clock, PostedKind.JOB, "m1")
    await JobEndAnnouncer(service, surface).announce(job)
    assert surface.asked_locale == [job.requester]
    assert surface.sent[0].message == service.job_message(job, "fr")


async def test_a_requester_of_another_platform_is_not_asked_for_a_language(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    surface = FakeSurface(platform="elsewhere", locales={"bob": "fr"})
    job = await _ended_job(service, store)
    store.state.posted.append(
        PostedMessage("elsewhere", "W1", "C1", "m1", PostedKind.JOB, clock.now(), job_id=1)
    )
    await JobEndAnnouncer(service, surface).announce(job)
    assert surface.asked_locale == []
    assert surface.sent[0].message == service.job_message(job, "en")


async def test_a_card_the_platform_refuses_is_logged_and_the_next_card_still_told(
    service: CommandService,
    store: FakeStore,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    surface = FakeSurface(refusing={"reply"})
    job = await _ended_job(service, store)
    await _post(store, clock, PostedKind.JOB, "m1")
    await _post(store, clock, PostedKind.JOB, "m2")
    await JobEndAnnouncer(service, surface).announce(job)
    assert [(s.what, s.ref) for s in surface.sent] == [
        ("update", MessageRef("C1", "m1")),
        ("update", MessageRef("C1", "m2")),
    ]
    assert "could not tell console C1 that job #1 ended: reply refused" in caplog.text


async def test_a_card_that_shows_notes_keeps_them_and_the_ending_goes_where_told(
    service: CommandService, store: FakeStore, clock: FrozenClock, surface: FakeSurface
) -> None:
    job = await _ended_job(service, store)
    await service.execute_text('annotate 1 "disk was full"', console("bob"))
    await _post(store, clock, PostedKind.NOTE, "root")
    await _post(store, clock, PostedKind.JOB, "m1")

    def root_of(card: PostedMessage, posted: Sequence[PostedMessage]) -> str:
        return next(p.message_id for p in posted if p.kind is PostedKind.NOTE)

    await JobEndAnnouncer(service, surface, with_notes=True, thread_of=root_of).announce(job)
    update, reply = surface.sent
    assert "disk was full" in update.message.text
    assert update.ref == MessageRef("C1", "m1")
    assert reply.ref == MessageRef("C1", "root")


# -- the post book ----------------------------------------------------------------------------


async def test_a_card_remembered_after_its_job_ended_tells_the_end_at_once(
    service: CommandService, store: FakeStore, clock: FrozenClock, surface: FakeSurface
) -> None:
    await _ended_job(service, store)
    announcer = JobEndAnnouncer(service, surface)
    posts = PostBook(service, clock, PLATFORM, announcer.announce)
    await posts.remember_job("W1", MessageRef("C1", "m1"), 1)
    assert [(p.kind, p.message_id, p.job_id) for p in store.state.posted] == [
        (PostedKind.JOB, "m1", 1)
    ]
    assert [s.what for s in surface.sent] == ["update", "reply"]


async def test_a_card_of_a_running_job_is_remembered_and_nothing_told(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await service.execute_text("run demo", console("bob"))
    told: list[Job] = []

    async def tell(job: Job) -> None:
        told.append(job)

    await PostBook(service, clock, PLATFORM, tell).remember_job("W1", MessageRef("C1", "m1"), 1)
    assert [p.message_id for p in store.state.posted] == ["m1"]
    assert told == []


async def test_the_chain_a_card_was_answered_in_is_remembered_before_the_card(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    async def tell(job: Job) -> None:
        raise AssertionError("no job has ended")

    posts = PostBook(service, clock, PLATFORM, tell)
    await posts.remember_job("W1", MessageRef("C1", "m1"), 7, chain_root="root")
    await posts.remember_job("W1", MessageRef("C1", ""), 8)  # no id given back: not kept
    assert [(p.kind, p.channel, p.message_id, p.job_id) for p in store.state.posted] == [
        (PostedKind.NOTE, "C1", "root", 7),
        (PostedKind.JOB, "C1", "m1", 7),
    ]


# -- notes from threads -------------------------------------------------------------------


async def _words_under_m1(service: CommandService, words: str, *, link: str) -> Message:
    """bob's words, sent as reply m2 under the post m1 in C1."""
    return await note_or_command(
        service,
        console("bob"),
        words,
        platform=PLATFORM,
        channel="C1",
        parent="m1",
        link=link,
        raw="thread note m2",
        prefix=PREFIX,
    )


async def test_words_in_a_jobs_thread_annotate_the_job(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await service.execute_text("run demo", console("bob"))
    await _post(store, clock, PostedKind.JOB, "m1")
    answer = await _words_under_m1(service, "disk was full", link="https://chat.example/m2")
    [note] = store.state.annotations
    assert (note.job_id, note.text, note.link) == (1, "disk was full", "https://chat.example/m2")
    assert answer.job_id == 1 and not answer.ephemeral


async def test_empty_words_in_a_jobs_thread_get_the_help_of_annotate(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await service.execute_text("run demo", console("bob"))
    await _post(store, clock, PostedKind.JOB, "m1")
    answer = await _words_under_m1(service, "", link="")
    help_annotate = await service.execute_text("help annotate", console("bob"), prefix=PREFIX)
    assert answer.text == help_annotate.text
    assert store.state.annotations == []


async def test_words_that_clean_away_to_nothing_get_the_help_not_an_empty_note(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    # Found by the Discord gateway's hostile test: "@exportbot \x00" was saved as a note "".
    await service.execute_text("run demo", console("bob"))
    await _post(store, clock, PostedKind.JOB, "m1")
    help_annotate = await service.execute_text("help annotate", console("bob"), prefix=PREFIX)
    invisible = ("\u200b", "\u2066\u2069 \ufeff", "\u200e\u200f\u202e")  # nothing to read
    for words in ("\x00", "\x00 \x1b\x00", "\x07\t", *invisible):
        answer = await _words_under_m1(service, words, link="")
        assert answer.text == help_annotate.text, repr(words)
    assert store.state.annotations == []


async def test_words_outside_a_jobs_thread_are_a_command(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await _post(store, clock, PostedKind.JOB, "m1")
    for parent, target in (("", "demo"), ("elsewhere", "site-a")):
        answer = await note_or_command(
            service,
            console("bob"),
            f"run {target}",
            platform=PLATFORM,
            channel="C1",
            parent=parent,
            link="",
            raw="thread note",
            prefix=PREFIX,
        )
        assert answer.job_id is not None
    assert sorted(store.state.jobs) == [1, 2]
    assert store.state.annotations == []


async def test_the_job_of_a_message_is_found_in_the_first_place_that_knows_one(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await _post(store, clock, PostedKind.ALERT, "a1", job_id=4)
    await _post(store, clock, PostedKind.DRAFT, "d1", job_id=None)
    assert await job_of(service, PLATFORM, ("C1", "nothing"), ("C1", "d1")) is None
    assert await job_of(service, PLATFORM, ("C1", "d1"), ("C1", "a1")) == 4
    assert await job_of(service, "elsewhere", ("C1", "a1")) is None


async def test_a_job_is_discussed_under_its_first_card_or_alert(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    assert await discussed_at(service, PLATFORM, 1) is None
    await _post(store, clock, PostedKind.NOTE, "n1")
    await _post(store, clock, PostedKind.ALERT, "a1")
    await _post(store, clock, PostedKind.JOB, "m1")
    found = await discussed_at(service, PLATFORM, 1)
    assert found is not None and found.message_id == "a1"


# -- presses --------------------------------------------------------------------------------


def test_where_the_answer_to_a_press_goes() -> None:
    refusal = Message(title="no", ephemeral=True)
    decision = Message(title="cancelled", job_id=1)
    retried = Message(title="queued", job_id=2)
    words = Message(title="approved")
    assert disposition(refusal, "1") is Disposition.PRIVATE
    assert disposition(decision, "1", on_message=False) is Disposition.PRIVATE
    assert disposition(retried, "1") is Disposition.NEW_MESSAGE
    assert disposition(decision, "1") is Disposition.REPLACE
    assert disposition(words, "3") is Disposition.REPLACE


async def test_an_accepted_press_replaces_the_card(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("run demo", console("bob"))
    pressed = await press(service, "job.cancel", "1:0", console("bob"), prefix=PREFIX)
    assert pressed.disposition is Disposition.REPLACE
    assert pressed.message.job_id == 1
    assert store.state.jobs[1].state is JobState.CANCELLED


async def test_a_refused_press_is_for_the_presser_only(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("run demo", console("bob"))
    pressed = await press(service, "job.explode", "1:0", console("bob"), prefix=PREFIX)
    assert pressed.disposition is Disposition.PRIVATE and pressed.message.ephemeral
    assert store.state.jobs[1].state is JobState.QUEUED


async def test_a_retry_press_answers_with_the_new_jobs_card_as_a_new_message(
    service: CommandService, store: FakeStore
) -> None:
    await _ended_job(service, store)
    pressed = await press(service, "job.retry", "1:1", console("bob"), prefix=PREFIX)
    assert pressed.disposition is Disposition.NEW_MESSAGE
    assert pressed.message.job_id == 2


# -- the ack deadline -------------------------------------------------------------------------


async def test_an_answer_ready_in_time_is_the_answer_and_nothing_runs_later() -> None:
    background = Background("test")
    handed: list[asyncio.Task[str]] = []

    async def later(task: asyncio.Task[str]) -> None:
        handed.append(task)

    async def quick() -> str:
        return "done"

    assert await within(quick(), 1.0, later=later, background=background) == "done"
    await background.drain()
    assert handed == []


async def test_a_late_answer_is_handed_on_still_running_and_delivered_later() -> None:
    background = Background("test")
    release = asyncio.Event()
    delivered: list[str] = []

    async def slow() -> str:
        await release.wait()
        return "late answer"

    async def later(task: asyncio.Task[str]) -> None:
        delivered.append(await task)

    assert await within(slow(), 0.01, later=later, background=background) is None
    assert delivered == []
    release.set()
    await background.drain()
    assert delivered == ["late answer"]


async def test_work_that_fails_in_time_raises_its_own_error() -> None:
    async def later(task: asyncio.Task[str]) -> None:
        raise AssertionError("not late")

    async def broken() -> str:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        await within(broken(), 1.0, later=later, background=Background("test"))


# -- the background set and private replies ----------------------------------------------------


async def test_background_work_is_kept_until_it_ends_and_its_failure_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = Background("Test")
    ran: list[str] = []

    async def work() -> None:
        await asyncio.sleep(0)
        ran.append("work")
        background.keep(more())  # started by kept work: drained too

    async def more() -> None:
        ran.append("more")

    async def failing() -> None:
        raise RuntimeError("boom")

    background.keep(work())
    background.keep(failing())
    await background.drain()
    assert ran == ["work", "more"]
    assert "Test background work failed" in caplog.text


async def test_closing_the_background_set_cancels_what_still_runs() -> None:
    background = Background("test")
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    background.keep(forever())
    await started.wait()
    await background.close()
    assert cancelled == [True]
    await background.drain()  # nothing left


async def test_a_private_reply_goes_to_the_person_and_a_refusal_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    surface = FakeSurface()
    message = Message(title="hello")
    await tell_privately(surface, console("bob"), message)
    assert [(s.what, s.to, s.message) for s in surface.sent] == [
        ("private", console("bob").principal, message)
    ]
    with caplog.at_level(logging.WARNING):
        await tell_privately(FakeSurface(refusing={"private"}), console("bob"), message)
    assert "could not message" in caplog.text and "private refused" in caplog.text


async def test_settling_waits_for_work_within_the_grace_then_cancels_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = Background("Test turn")
    quick_done: list[str] = []

    async def quick() -> str:
        await asyncio.sleep(0.01)
        quick_done.append("quick")
        return "answered"

    async def stuck() -> None:
        await asyncio.Event().wait()

    task = background.keep(quick())
    stuck_task = background.keep(stuck())
    await background.settle(0.5)
    assert quick_done == ["quick"] and task.result() == "answered"
    assert stuck_task.cancelled()
    assert "Test turn: 1 task(s) still running at shutdown, cancelled" in caplog.text


# -- which presses open a form, and where an ending goes in a reply chain ------------------


def test_a_button_drawn_without_its_form_opens_the_form_instead_of_acting() -> None:
    note = form_instead("job.note", "12")
    assert note is not None and (note.form_id, note.context) == ("note", "12")
    assert form_instead("job.cancel", "12") is None


def test_a_decision_that_asks_a_reason_opens_a_form_where_cards_hold_no_comment_box() -> None:
    reject = Press.of("draft.reject", "3:2")
    approve = Press.of("draft.approve", "3:2")
    assert reject is not None and approve is not None
    ref = reason_form(reject)
    assert ref is not None and ref == FormRef.decision(reject)
    assert reason_form(approve) is None


def test_an_ending_goes_in_the_reply_chain_the_card_was_answered_in(clock: FrozenClock) -> None:
    def posted(channel: str, message_id: str, kind: PostedKind) -> PostedMessage:
        return PostedMessage("teams", "T1", channel, message_id, kind, clock.now(), job_id=1)

    card = posted("C1", "card", PostedKind.JOB)
    elsewhere = posted("C2", "root-elsewhere", PostedKind.NOTE)
    assert in_reply_chain(card, [card, elsewhere]) == "card"  # no chain in its channel
    assert in_reply_chain(card, [card, elsewhere, posted("C1", "root", PostedKind.NOTE)]) == "root"


# --- a draft decided in one place, redrawn everywhere (issue 17) ---


async def test_a_decision_redraws_every_card_of_the_draft_but_the_pressed_one(
    service: CommandService, store: FakeStore, surface: FakeSurface, clock: FrozenClock
) -> None:
    from core.app.drafts import DraftCardRedrawer

    redrawer = DraftCardRedrawer(service, surface)
    asked: list[tuple[int, str]] = []
    service.draft_listeners.append(lambda draft, pressed: asked.append((draft, pressed)))
    await service.execute_text('schedule draft demo --cron "0 2 * * *" --tz UTC', console("alice"))
    await service.execute_text("schedule submit #1", console("alice"))
    book = PostBook(service, clock, PLATFORM, lambda job: asyncio.sleep(0))
    for channel, message_id, kind in (
        ("ops", "m1", PostedKind.DRAFT),
        ("reviews", "m2", PostedKind.ALERT),
        ("ops", "m3", PostedKind.ALERT),
    ):
        await book.remember("", MessageRef(channel, message_id), kind, draft_id=1)
    await book.remember("", MessageRef("ops", "m9"), PostedKind.DRAFT, draft_id=2)
    assert asked == []  # submitting redraws nothing

    decided = await press(
        service, "draft.approve", "1:1", console("carol"), prefix=PREFIX, message="ops:m1"
    )
    assert decided.disposition is Disposition.REPLACE
    assert asked == [(1, "ops:m1")]  # once committed, with the pressed message
    assert await redrawer.redraw(*asked[0]) == 2
    assert [(s.what, s.ref) for s in surface.sent] == [
        ("update", MessageRef("reviews", "m2")),
        ("update", MessageRef("ops", "m3")),  # same channel, another message
    ]
    for sent in surface.sent:
        assert "approved and active" in sent.message.text and not sent.message.actions


async def test_a_refused_decision_redraws_nothing_and_a_failed_redraw_is_only_logged(
    service: CommandService, surface: FakeSurface, clock: FrozenClock
) -> None:
    from core.app.drafts import DraftCardRedrawer

    asked: list[tuple[int, str]] = []
    service.draft_listeners.append(lambda draft, pressed: asked.append((draft, pressed)))
    await service.execute_text('schedule draft demo --cron "0 2 * * *" --tz UTC', console("alice"))
    await service.execute_text("schedule submit #1", console("alice"))
    own = await press(
        service, "draft.approve", "1:1", console("alice"), prefix=PREFIX, message="ops:m1"
    )
    assert own.disposition is Disposition.PRIVATE and asked == []
    book = PostBook(service, clock, PLATFORM, lambda job: asyncio.sleep(0))
    await book.remember("", MessageRef("reviews", "m2"), PostedKind.ALERT, draft_id=1)
    await service.execute_text("schedule withdraw #1", console("alice"))
    assert asked == [(1, "")]  # typed, not pressed: every card is redrawn
    surface.refusing.add("update")
    assert await DraftCardRedrawer(service, surface).redraw(1) == 0
