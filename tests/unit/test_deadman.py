"""The dead-man's switch of `reported` targets on the fakes, with a frozen clock: no start
within the grace → one `missed`, started and not finished within `max_runtime` → one `stuck`,
the next success → one `recovered`; each event fans out to its subscribers as an alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import FrozenClock
from core.delivery.fanout import fan_out
from core.domain.deadman import Watch
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import (
    ExpectedRuns,
    JobState,
    NewJob,
    Origin,
    OriginKind,
    TargetKind,
    TargetSpec,
)
from core.domain.schedules import Retention, ScheduleSpec
from core.domain.subscriptions import AlertKind, Destination, Severity, Subscription, classify
from core.i18n import Translator
from core.jobs.deadman import DeadmanWatch
from core.jobs.scheduling import catch_up
from core.views.alerts import AlertSettings, alert_message
from tests.fakes import FakeStore
from tests.unit.conftest import TARGETS, RecordingJobControl

START = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
NIGHTLY = ExpectedRuns(cron="0 3 * * *", grace=timedelta(minutes=30))
OPS = Destination("slack", "T1", "C0OPS")
SWITCH_EVENTS = (EventKind.RUN_MISSED, EventKind.RUN_STUCK, EventKind.RUN_RECOVERED)


def _watch(store: FakeStore, clock: FrozenClock, expected: ExpectedRuns = NIGHTLY) -> DeadmanWatch:
    targets = {**TARGETS, "db": TargetSpec("db", TargetKind.REPORTED, expected=expected)}
    return DeadmanWatch(store.uow, targets, clock)


def _events(store: FakeStore) -> list[str]:
    return [e.kind.value for e in store.state.outbox if e.kind in SWITCH_EVENTS]


async def _at(clock: FrozenClock, watch: DeadmanWatch, when: datetime) -> None:
    clock.advance(when - clock.now())
    await watch.check_all()


async def _start(store: FakeStore, at: datetime) -> int:
    async with store.uow() as uow:
        job = await uow.jobs.add(
            NewJob("db", Origin(OriginKind.API, reference="cron-db"), None, "cron-db", at)
        )
        job.transition(JobState.RUNNING, at)
        await uow.jobs.save(job)
        await uow.commit()
    return job.id


async def _end(store: FakeStore, job_id: int, at: datetime, state: JobState) -> None:
    async with store.uow() as uow:
        job = await uow.jobs.get(job_id)
        assert job is not None
        job.transition(state, at)
        await uow.jobs.save(job)
        await uow.commit()


def _day(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def test_no_start_within_the_grace_is_missed_once_and_a_success_recovers() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    watch = _watch(store, clock)
    await watch.check_all()  # first look: runs are expected from now on
    assert store.state.watches["db"].status is Watch.OK and _events(store) == []
    await _at(clock, watch, _day(4, 3, 29))
    assert _events(store) == []  # 03:00 passed, but still within the grace
    await _at(clock, watch, _day(4, 3, 30))
    assert _events(store) == ["run.missed"]
    [missed] = [e for e in store.state.outbox if e.kind is EventKind.RUN_MISSED]
    assert missed.payload["fire_time"] == "2026-12-04T03:00:00+00:00"
    assert missed.payload["reported"] is True
    for when in (_day(4, 3, 31), _day(4, 12), _day(5, 3, 45)):  # still missed: said once
        await _at(clock, watch, when)
    assert _events(store) == ["run.missed"]
    job = await _start(store, _day(5, 4))
    await _end(store, job, _day(5, 4, 20), JobState.SUCCEEDED)
    await _at(clock, watch, _day(5, 4, 21))
    assert _events(store) == ["run.missed", "run.recovered"]
    await _at(clock, watch, _day(5, 5))
    assert store.state.watches["db"].status is Watch.OK
    await _at(clock, watch, _day(6, 3, 30))  # the next night is missed again: a new alert
    assert _events(store) == ["run.missed", "run.recovered", "run.missed"]
    assert [a.action for a in store.state.audit] == ["run.missed", "run.recovered", "run.missed"]


async def test_a_start_within_the_grace_or_a_little_early_is_not_missed() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    watch = _watch(store, clock)
    await watch.check_all()
    job = await _start(store, _day(4, 3, 10))  # ten minutes late, within the grace
    await _at(clock, watch, _day(4, 3, 40))
    await _end(store, job, _day(4, 3, 50), JobState.SUCCEEDED)
    early = await _start(store, _day(5, 2, 45))  # fifteen minutes early
    await _end(store, early, _day(5, 2, 55), JobState.SUCCEEDED)
    for when in (_day(4, 4), _day(5, 3, 31), _day(5, 12)):
        await _at(clock, watch, when)
    assert _events(store) == []
    assert store.state.watches["db"].status is Watch.OK  # a success while ok is no recovery


async def test_a_failed_run_is_not_a_miss_but_does_not_recover_one() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    watch = _watch(store, clock)
    await watch.check_all()
    await _at(clock, watch, _day(4, 3, 30))
    job = await _start(store, _day(4, 5))
    await _end(store, job, _day(4, 5, 5), JobState.FAILED)  # its own `failed` alert says it
    await _at(clock, watch, _day(4, 6))
    assert _events(store) == ["run.missed"]


async def test_an_interval_expects_a_start_every_period_after_the_last() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    hourly = ExpectedRuns(every=timedelta(hours=1), grace=timedelta(minutes=10))
    watch = _watch(store, clock, hourly)
    await watch.check_all()
    job = await _start(store, START + timedelta(minutes=30))
    await _end(store, job, START + timedelta(minutes=35), JobState.SUCCEEDED)
    await _at(clock, watch, START + timedelta(minutes=99))  # 1 h after the start + 9 min
    assert _events(store) == []
    await _at(clock, watch, START + timedelta(minutes=100))
    assert _events(store) == ["run.missed"]


async def test_a_run_past_its_max_runtime_is_stuck_once_and_its_success_recovers() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    expected = ExpectedRuns(max_runtime=timedelta(hours=2))  # no schedule: never missed
    watch = _watch(store, clock, expected)
    await watch.check_all()
    job = await _start(store, _day(4, 2))
    await _at(clock, watch, _day(4, 3, 59))
    assert _events(store) == []
    await _at(clock, watch, _day(4, 4))
    assert _events(store) == ["run.stuck"]
    [stuck] = [e for e in store.state.outbox if e.kind is EventKind.RUN_STUCK]
    assert stuck.payload["job"] == job and stuck.payload["max_runtime_seconds"] == 7200
    for when in (_day(4, 5), _day(4, 9)):
        await _at(clock, watch, when)
    assert _events(store) == ["run.stuck"]
    await _end(store, job, _day(4, 9, 30), JobState.SUCCEEDED)
    await _at(clock, watch, _day(4, 10))
    await _at(clock, watch, _day(4, 11))
    assert _events(store) == ["run.stuck", "run.recovered"]


async def test_a_late_run_that_hangs_after_a_miss_is_also_stuck_then_recovers_once() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    expected = ExpectedRuns(cron="0 3 * * *", max_runtime=timedelta(hours=1))
    watch = _watch(store, clock, expected)
    await watch.check_all()
    await _at(clock, watch, _day(4, 3, 30))
    job = await _start(store, _day(4, 6))
    await _at(clock, watch, _day(4, 7))
    await _end(store, job, _day(4, 7, 30), JobState.SUCCEEDED)
    await _at(clock, watch, _day(4, 8))
    assert _events(store) == ["run.missed", "run.stuck", "run.recovered"]


async def test_targets_not_reported_or_without_expectations_are_never_judged() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    watch = _watch(store, clock, ExpectedRuns())
    for days in range(3):
        await _at(clock, watch, START + timedelta(days=days))
    assert store.state.watches == {} and store.state.outbox == []


async def test_an_approved_schedule_replaces_the_configured_one_from_its_activation() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    watch = _watch(store, clock)
    await watch.check_all()
    async with store.uow() as uow:  # approved at 02:00 for 05:00 Paris (04:00 UTC)
        await uow.schedules.activate(
            "db", ScheduleSpec("0 5 * * *", "Europe/Paris", Retention()), 1, _day(4, 2), "x"
        )
        await uow.commit()
    await _at(clock, watch, _day(4, 3, 45))  # the configured 03:00 no longer counts
    assert _events(store) == []
    await _at(clock, watch, _day(4, 4, 30))
    [missed] = [e for e in store.state.outbox if e.kind is EventKind.RUN_MISSED]
    assert missed.payload["fire_time"] == "2026-12-04T05:00:00+01:00"


async def test_a_reported_targets_schedule_never_starts_a_job_here() -> None:
    store, clock, jobs = FakeStore(), FrozenClock(START), RecordingJobControl()
    async with store.uow() as uow:
        await uow.schedules.activate(
            "db", ScheduleSpec("0 2 * * *", "UTC", Retention()), 1, START, "x"
        )
        await uow.commit()
    clock.advance(timedelta(hours=1, minutes=2))
    grace = timedelta(minutes=10)
    assert await catch_up(store.uow, clock, jobs, grace, unfired=frozenset({"db"})) == []
    assert store.state.jobs == {} and jobs.launched == []
    assert store.state.outbox == []  # nor is it "missed" by the bot: the switch judges it


async def test_two_watchers_at_once_announce_each_change_once() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    first, second = _watch(store, clock), _watch(store, clock)
    await first.check_all()
    clock.advance(_day(4, 3, 30) - clock.now())
    assert len(await first.check_all()) == 1
    assert await second.check_all() == []
    assert _events(store) == ["run.missed"]


async def test_the_events_reach_their_subscribers_as_alerts_in_words() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    expected = ExpectedRuns(cron="0 3 * * *", max_runtime=timedelta(hours=1))
    watch = _watch(store, clock, expected)
    kinds = frozenset({AlertKind.MISSED, AlertKind.STUCK, AlertKind.RECOVERED})
    async with store.uow() as uow:
        await uow.subscriptions.save(Subscription(OPS, "db", kinds, Severity.INFO, "x", START))
        await uow.commit()
    await watch.check_all()
    await _at(clock, watch, _day(4, 3, 30))
    job = await _start(store, _day(4, 6))
    await _at(clock, watch, _day(4, 7))
    await _end(store, job, _day(4, 7, 30), JobState.SUCCEEDED)
    await _at(clock, watch, _day(4, 8))
    async with store.uow() as uow:
        assert await fan_out(uow, clock.now(), chat_platforms=frozenset({"slack"})) == 3
        await uow.commit()
    assert [d.destination for d in store.state.deliveries] == [OPS] * 3
    events = [e for e in store.state.outbox if e.kind in SWITCH_EVENTS]
    assert [classify(e) for e in events] == [
        (AlertKind.MISSED, Severity.WARNING),
        (AlertKind.STUCK, Severity.WARNING),
        (AlertKind.RECOVERED, Severity.INFO),
    ]
    settings = AlertSettings("https://bot.example.org", b"k")
    en = [alert_message(Translator("en"), e, *_alert(e), settings, clock.now()) for e in events]
    assert en[0].title == "A scheduled run of db was missed"
    assert (
        "No run of db reported its start for 2026-12-04T03:00:00+00:00, 30 min of grace"
        in (en[0].sections[0])
    )
    assert en[0].actions == ()  # no "Run now": it runs elsewhere
    assert en[1].title == f"Job #{job} of db has not finished"
    assert "more than 1 h ago" in en[1].sections[0]
    assert en[2].title == "db is back to normal"
    fr = alert_message(Translator("fr"), events[1], *_alert(events[1]), settings, clock.now())
    assert fr.title == f"La tâche #{job} de db ne s'est pas terminée"
    assert "plus de 1 h" in fr.sections[0]


def _alert(event: OutboxEvent) -> tuple[AlertKind, Severity]:
    found = classify(event)
    assert found is not None
    return found


async def test_a_run_that_ended_before_the_miss_was_judged_does_not_recover_it() -> None:
    store, clock = FakeStore(), FrozenClock(START)
    watch = _watch(store, clock)
    await watch.check_all()
    job = await _start(store, START)  # hours before the 03:00 run it is expected for
    await _end(store, job, _day(4, 3, 30), JobState.SUCCEEDED)
    await _at(clock, watch, _day(4, 3, 30))
    await watch.check_all()
    assert _events(store) == ["run.missed"]  # not recovered by the run that was too early
    later = await _start(store, _day(4, 4))
    await _end(store, later, _day(4, 4, 10), JobState.SUCCEEDED)
    await _at(clock, watch, _day(4, 4, 11))
    assert _events(store) == ["run.missed", "run.recovered"]
