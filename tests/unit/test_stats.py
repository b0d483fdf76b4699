"""`stats` (C6) on the fakes with a frozen clock: the sparklines and words, the chart (a PNG
of a known size) and its alt text, bounds, French, and refusals."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.bootstrap import PLATFORMS
from bot.charts import PNG_HEIGHT, PNG_WIDTH, MatplotlibCharts
from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.model import Bound, Outcome, PerformanceBounds
from core.domain.performance import outside_since, sparkline
from core.i18n import Translator
from core.safety.links import chart_path, fetchable, verify
from core.views.performance import alt_text, short_duration
from tests.contract.seeds import finished_job
from tests.fakes import FakeStore
from tests.unit.conftest import TARGETS, RecordingJobControl, console

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday
SECRET = b"s" * 32
PUBLIC = "https://bot.example.com"
MINUTE, GB = 60, 1_000_000_000
# demo: 14 days, 4 min rising by 30 s a day to 10.5 min; days 3 and 4 (Nov 24, 25) empty;
# sizes falling by 40 MB a day from 2.0 GB. site-a: one job today.
DEMO_DAYS = [d for d in range(14) if d not in (3, 4)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


async def seed(store: FakeStore) -> None:
    start = NOW.replace(hour=6) - timedelta(days=13)
    for day in DEMO_DAYS:
        end = start + timedelta(days=day)
        seconds = 4 * MINUTE + day * 30
        await finished_job(store.uow, "demo", end, seconds, 2 * GB - day * 40_000_000)
    await finished_job(store.uow, "site-a", NOW - timedelta(hours=1), 45, 300_000)


def stats_service(
    store: FakeStore, clock: FrozenClock, bounds: PerformanceBounds | None = None
) -> CommandService:
    targets = dict(TARGETS)
    if bounds is not None:
        targets["demo"] = replace(targets["demo"], performance=bounds)
    return CommandService(
        store.uow,
        targets,
        clock,
        RecordingJobControl(),
        platforms=PLATFORMS,
        charts=MatplotlibCharts(PUBLIC, SECRET, clock),
    )


async def test_stats_of_a_target_draws_sparklines_words_and_a_described_chart(
    store: FakeStore, clock: FrozenClock
) -> None:
    await seed(store)
    reply = await stats_service(store, clock).execute_text("stats demo", console("bob"))
    assert reply.title == "Performance · demo · 14 days"
    assert reply.status == "no bounds set"
    assert reply.sections == (
        "demo — 12 successful jobs in 14 days\n"
        "Duration: ▁▂▂··▄▄▅▅▆▆▇▇█  4 min to 11 min, 8 min on average\n"
        "Size: █▇▇··▅▅▄▄▃▃▂▂▁  1.5 GB to 2.0 GB, 1.7 GB on average",
    )
    [image] = reply.images
    assert image.alt_text == (
        "Average duration rose from 4 min to 11 min, and average size fell from 2.0 GB to "
        "1.5 GB over 14 days."
    )
    assert png_size(image.data) == (PNG_WIDTH, PNG_HEIGHT)
    assert image.filename == "stats-demo-14d.png"
    link = urlsplit(image.url)
    query = parse_qs(link.query)
    assert f"{link.scheme}://{link.netloc}" == PUBLIC and link.path == chart_path("demo", 14)
    assert verify(SECRET, link.path, query["expires"][0], query["sig"][0], NOW)
    assert f"[{image.alt_text}]" in reply.text  # the text fallback carries it too


async def test_a_bound_set_is_said_in_the_words_the_status_and_the_alt_text(
    store: FakeStore, clock: FrozenClock
) -> None:
    await seed(store)
    bounds = PerformanceBounds(max_avg_seconds=8 * MINUTE, min_avg_bytes=int(1.7 * GB))
    reply = await stats_service(store, clock, bounds).execute_text(
        "stats demo --days 7", console("bob")
    )
    assert reply.status == "outside its bounds"
    # The 7-day window (Nov 28 to Dec 4) averages 9 min and 1.6 GB: outside both.
    assert reply.sections[0].splitlines()[1:] == [
        "Duration: ▁▂▃▅▆▇█  8 min to 11 min, 9 min on average; above the 8 min bound",
        "Size: █▇▆▅▃▂▁  1.5 GB to 1.7 GB, 1.6 GB on average; below the 1.7 GB minimum",
    ]
    # Daily averages above 8 min from Monday Nov 30 (8.5 min), below 1.7 GB from Sunday
    # Nov 29 (1.68 GB).
    assert reply.images[0].alt_text == (
        "Average duration rose from 8 min to 11 min, and average size fell from 1.7 GB to "
        "1.5 GB over 7 days; above the 8 min bound since Monday; below the 1.7 GB minimum "
        "since Sunday."
    )


async def test_stats_speaks_french(store: FakeStore, clock: FrozenClock) -> None:
    await seed(store)
    bounds = PerformanceBounds(max_avg_seconds=8 * MINUTE)
    reply = await stats_service(store, clock, bounds).execute_text(
        "stats demo", console("bob", "fr")
    )
    assert reply.title == "Performance · demo · 14 jours"
    assert reply.status == "hors de ses limites"
    assert reply.sections[0].splitlines()[1] == (
        "Durée\u202f: ▁▂▂··▄▄▅▅▆▆▇▇█  de 4 min à 11 min, 8 min en moyenne\u202f; "
        "au-dessus de la limite de 8 min"
    )
    assert reply.images[0].alt_text == (
        "La durée moyenne est montée de 4 min à 11 min, et la taille moyenne est descendue de "
        "2,0 Go à 1,5 Go sur 14 jours\u202f; au-dessus de la limite de 8 min depuis lundi."
    )


async def test_stats_of_every_target_is_words_alone_with_the_way_to_a_chart(
    store: FakeStore, clock: FrozenClock
) -> None:
    await seed(store)
    reply = await stats_service(store, clock).execute_text("stats --days 3", console("bob"))
    assert reply.title == "Performance of all targets · 3 days"
    assert reply.images == ()
    assert reply.sections == (
        "demo — 3 successful jobs in 3 days\n"
        "Duration: ▁▅█  10 min to 11 min, 10 min on average\n"
        "Size: █▅▁  1.5 GB to 1.6 GB, 1.5 GB on average",
        "site-a — 1 successful job in 3 days\n"
        "Duration: ··▄  45 s to 45 s, 45 s on average\n"
        "Size: ··▄  300.0 kB to 300.0 kB, 300.0 kB on average",
    )
    assert reply.footer == "stats <target> draws a target's chart."


async def test_a_target_without_jobs_says_so_and_draws_nothing(
    store: FakeStore, clock: FrozenClock
) -> None:
    reply = await stats_service(store, clock).execute_text("stats site-a", console("bob"))
    assert reply.sections == ("site-a — no successful job in 14 days",)
    assert reply.images == ()


async def test_someone_without_a_role_is_refused_and_audited(
    store: FakeStore, clock: FrozenClock
) -> None:
    await seed(store)
    reply = await stats_service(store, clock).execute_text("stats demo", console("mallory"))
    assert reply.error_key == "error.permission"
    assert reply.images == ()
    refusal = store.state.audit[-1]
    assert (refusal.actor, refusal.action, refusal.outcome) == (
        "console:mallory",
        "stats",
        Outcome.REFUSED,
    )


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("stats nope", "error.target_not_found"),
        ("stats demo --days 0", "error.out_of_range"),
        ("stats demo --days 367", "error.out_of_range"),
        ("stats demo --days many", "error.not_a_number"),
        ("stats demo --weeks 2", "error.unknown_option"),
    ],
)
async def test_bad_stats_input_is_named_and_changes_nothing(
    store: FakeStore, clock: FrozenClock, typed: str, key: str
) -> None:
    before = store.commits
    reply = await stats_service(store, clock).execute_text(typed, console("bob"))
    assert reply.error_key == key
    assert "help" in reply.footer.lower() or "help" in reply.text.lower()
    assert store.state.outbox == [] and store.commits - before <= 1  # at most its audit line


# -- the pure pieces ---------------------------------------------------------------------


def test_a_sparkline_scales_from_lowest_to_highest_and_leaves_gaps() -> None:
    assert sparkline([1.0, None, 8.0, 4.5]) == "▁·█▅"
    assert sparkline([3.0, 3.0]) == "▄▄"  # flat: the middle bar, not nothing
    assert sparkline([None, None]) == "··"


def test_outside_since_is_the_start_of_the_latest_run_across_gaps() -> None:
    start = date(2026, 11, 1)
    series = [9.0, 1.0, 9.0, None, 9.0, None]
    assert outside_since(series, start, 5.0, maximum=True) == date(2026, 11, 3)
    assert outside_since([9.0, 1.0], start, 5.0, maximum=True) is None
    assert outside_since([1.0, 0.5], start, 2.0, maximum=False) == start


@pytest.mark.parametrize(
    ("seconds", "en", "fr"),
    [
        (0.42, "0.4 s", "0,4 s"),
        (45, "45 s", "45 s"),
        (540, "9 min", "9 min"),
        (7500, "2 h 5 min", "2 h 5 min"),
    ],
)
def test_durations_read_rounded(seconds: float, en: str, fr: str) -> None:
    assert short_duration(Translator("en"), seconds) == en
    assert short_duration(Translator("fr"), seconds) == fr


def test_the_alt_text_of_a_steady_series_and_of_an_empty_one() -> None:
    t = Translator("en")
    bounds = PerformanceBounds(max_avg_bytes=GB)
    start = date(2026, 12, 1)
    steady = alt_text(t, "db", [60.0, 61.0, None, 60.5], [None] * 4, start, bounds)
    assert steady == "Average duration stayed around 1 min over 4 days."
    today = alt_text(t, "db", [60.0, 61.0], [0.5 * GB, 2.0 * GB], start, bounds)
    assert today.endswith("; above the 1.0 GB bound since today.")
    assert alt_text(t, "db", [None] * 3, [None] * 3, start, bounds) == (
        "No successful job of db in the last 3 days."
    )
    older = alt_text(t, "db", [60.0] * 10, [2.0 * GB] * 10, start, bounds)
    assert older.endswith("since Dec 1, 2026.")  # more than a week ago: a date, not a weekday


def test_every_bound_has_a_configuration_key() -> None:
    assert {b.value for b in Bound} == {
        "max_avg_duration",
        "min_avg_duration",
        "max_avg_size",
        "min_avg_size",
    }


async def test_on_a_loopback_address_the_chart_has_bytes_but_no_link(
    store: FakeStore, clock: FrozenClock
) -> None:
    """Slack refuses a message whose image it cannot fetch: on the default 127.0.0.1 only the
    platforms that upload the chart (Discord, the console) show it."""
    await seed(store)
    service = CommandService(
        store.uow,
        TARGETS,
        clock,
        RecordingJobControl(),
        platforms=PLATFORMS,
        charts=MatplotlibCharts("http://127.0.0.1:8080", SECRET, clock),
    )
    [image] = (await service.execute_text("stats demo", console("bob"))).images
    assert image.url == "" and png_size(image.data) == (PNG_WIDTH, PNG_HEIGHT)
    assert [fetchable(u) for u in ("http://localhost:8080", "http://[::1]/", PUBLIC)] == [
        False,
        False,
        True,
    ]
