"""Performance bounds (C6) on the fakes with a frozen clock: a crossing writes exactly one
`performance` event, staying outside writes none, coming back inside re-arms, and the alert
made of the event carries the chart, its words and the job page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from core.clock import FrozenClock
from core.delivery.fanout import fan_out
from core.domain.events import EventKind
from core.domain.model import Bound, PerformanceBounds, TargetSpec
from core.domain.subscriptions import AlertKind, Destination, Severity, Subscription, classify
from core.i18n import Translator
from core.jobs.performance_watch import PerformanceWatch
from core.safety.links import chart_path
from core.views.alerts import AlertSettings, alert_message
from tests.contract.seeds import finished_job
from tests.fakes import FakeStore
from tests.unit.conftest import TARGETS

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday
MINUTE, MB = 60, 1_000_000
BOUNDS = PerformanceBounds(max_avg_seconds=8 * MINUTE, min_avg_bytes=50 * MB, window_days=3)
OPS = Destination("slack", "T1", "C0OPS")


def _watch(store: FakeStore, clock: FrozenClock) -> PerformanceWatch:
    targets: dict[str, TargetSpec] = {
        **TARGETS,
        "demo": replace(TARGETS["demo"], performance=BOUNDS),
    }
    return PerformanceWatch(store.uow, targets, clock)


def _events(store: FakeStore) -> list[list[str]]:
    return [
        e.payload["bounds"] for e in store.state.outbox if e.kind is EventKind.PERFORMANCE_BOUND
    ]


async def _job(store: FakeStore, clock: FrozenClock, minutes: float, size: int = 100 * MB) -> int:
    clock.advance(timedelta(minutes=30))
    return await finished_job(store.uow, "demo", clock.now(), minutes * MINUTE, size)


async def test_a_bound_crossed_alerts_once_and_again_only_after_coming_back_inside() -> None:
    store, clock = FakeStore(), FrozenClock(NOW)
    watch = _watch(store, clock)
    await _job(store, clock, 5)
    assert await watch.check("demo") is None and _events(store) == []  # 5 min: inside
    job = await _job(store, clock, 15)  # average 10 min: outside
    crossed = await watch.check("demo", job)
    assert crossed is not None and crossed.bounds == {Bound.MAX_DURATION}
    assert _events(store) == [["max_avg_duration"]]
    for _ in range(3):  # still outside: nothing more
        await watch.check("demo", await _job(store, clock, 12))
    assert len(_events(store)) == 1
    for _ in range(6):  # quick runs bring the average back inside: re-armed, no event
        await watch.check("demo", await _job(store, clock, 1))
    assert store.state.performance_outside["demo"] == frozenset()
    assert len(_events(store)) == 1
    for _ in range(6):  # out again: a second event
        await watch.check("demo", await _job(store, clock, 30))
    assert _events(store) == [["max_avg_duration"], ["max_avg_duration"]]


async def test_each_bound_has_its_own_hysteresis() -> None:
    store, clock = FakeStore(), FrozenClock(NOW)
    watch = _watch(store, clock)
    await watch.check("demo", await _job(store, clock, 20))  # too long
    for _ in range(2):  # and now too small: (100 + 1 + 1) / 3 MB is under 50 MB
        await watch.check("demo", await _job(store, clock, 20, size=1 * MB))
    assert _events(store) == [["max_avg_duration"], ["min_avg_size"]]


async def test_the_window_forgets_old_jobs_so_time_alone_can_bring_it_back() -> None:
    store, clock = FakeStore(), FrozenClock(NOW)
    watch = _watch(store, clock)
    await watch.check("demo", await _job(store, clock, 20))
    clock.advance(timedelta(days=4))  # past the 3-day window
    await watch.check("demo", await _job(store, clock, 2))
    assert store.state.performance_outside["demo"] == frozenset()
    await watch.check("demo", await _job(store, clock, 30))
    assert len(_events(store)) == 2


async def test_a_target_without_bounds_is_never_judged() -> None:
    store, clock = FakeStore(), FrozenClock(NOW)
    watch = PerformanceWatch(store.uow, TARGETS, clock)
    assert await watch.check("demo", await _job(store, clock, 600)) is None
    assert store.state.outbox == [] and store.state.performance_outside == {}


async def test_the_event_reaches_performance_subscribers_as_an_alert_with_its_chart() -> None:
    store, clock = FakeStore(), FrozenClock(NOW)
    watch = _watch(store, clock)
    job = await _job(store, clock, 12)
    await watch.check("demo", job)
    async with store.uow() as uow:
        await uow.subscriptions.save(
            Subscription(OPS, "demo", frozenset({AlertKind.PERFORMANCE}), Severity.INFO, "x", NOW)
        )
        assert await fan_out(uow, clock.now(), chat_platforms=frozenset({"slack"})) == 1
        await uow.commit()
    [event] = store.state.outbox
    assert classify(event) == (AlertKind.PERFORMANCE, Severity.WARNING)
    settings = AlertSettings("https://bot.example.org", b"k")
    for locale, words in (
        (
            "en",
            "Average duration stayed around 12 min, and average size stayed around 100.0 MB "
            "over 14 days; above the 8 min bound since today.",
        ),
        (
            "fr",
            "La durée moyenne est restée autour de 12 min, et la taille moyenne est restée "
            "autour de 100,0 Mo sur 14 jours\u202f; au-dessus de la limite de 8 min depuis "
            "aujourd’hui.",
        ),
    ):
        alert = alert_message(
            Translator(locale), event, AlertKind.PERFORMANCE, Severity.WARNING, settings, NOW
        )
        [image] = alert.images
        assert image.alt_text == words
        assert urlsplit(image.url).path == chart_path("demo", 14)
        assert f"https://bot.example.org/jobs/{job}?expires=" in alert.text
    assert alert.title == "demo a franchi une limite de performance"
    assert (
        "Moyenne sur 3 jours\u202f: 12 min, 100,0 Mo\u202f; au-dessus de la limite de 8 min."
        in alert.sections
    )
