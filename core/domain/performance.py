"""Performance over time (C6): per target and per day, the average generation time and archive
size of the jobs that succeeded, and the bounds that alert when a window's average leaves them.

Bounds have hysteresis: a bound crossed alerts once, and again only after the average has come
back inside it. Which bounds are outside is kept in the database (it survives a restart), and
changed with a compare-and-set, so two processes seeing the same crossing alert once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from core.domain.events import EventKind, OutboxEvent
from core.domain.model import DEFAULT_WINDOW_DAYS, Bound, PerformanceBounds

__all__ = [
    "DEFAULT_STATS_DAYS",
    "DEFAULT_WINDOW_DAYS",
    "MAX_STATS_DAYS",
    "Averages",
    "Bound",
    "BoundsCrossed",
    "DailyPerformance",
    "PerformanceBounds",
    "averages",
    "check_bounds",
    "daily_series",
    "day_start",
    "first_day",
    "outside",
    "outside_since",
    "sparkline",
    "window_end",
]

if TYPE_CHECKING:  # ports name these dataclasses in their signatures
    from core.ports import UnitOfWork

DEFAULT_STATS_DAYS = 14
MAX_STATS_DAYS = 366
SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_GAP = "·"  # a day without a finished job


@dataclass(frozen=True)
class DailyPerformance:
    """One target's succeeded jobs of one UTC day (by their end)."""

    target: str
    day: date
    jobs: int
    average_seconds: float
    average_bytes: float | None  # None: none of them wrote an archive (a command target)


@dataclass(frozen=True)
class Averages:
    """Job-weighted averages over several days; None where no job counted."""

    jobs: int
    seconds: float | None
    bytes: float | None


def first_day(now: datetime, days: int) -> date:
    """The first UTC day of a window of `days` days ending today."""
    return now.astimezone(UTC).date() - timedelta(days=days - 1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def window_end(now: datetime) -> datetime:
    """The end of a window ending today: tomorrow's start, so a job that ended this very
    instant counts (a frozen or coarse clock gives its end and `now` the same time)."""
    return day_start(now.astimezone(UTC).date() + timedelta(days=1))


def averages(rows: Iterable[DailyPerformance]) -> Averages:
    """The days' averages, weighted by their jobs (the average of every job, not of days)."""
    jobs = 0
    seconds = 0.0
    sized_jobs = 0
    size = 0.0
    for row in rows:
        jobs += row.jobs
        seconds += row.average_seconds * row.jobs
        if row.average_bytes is not None:
            sized_jobs += row.jobs
            size += row.average_bytes * row.jobs
    return Averages(
        jobs, seconds / jobs if jobs else None, size / sized_jobs if sized_jobs else None
    )


def outside(bounds: PerformanceBounds, means: Averages) -> frozenset[Bound]:
    """The bounds the averages are outside of (a bound with nothing to measure is inside)."""
    found = set()
    for bound, limit in bounds.limits().items():
        value = means.seconds if bound.is_duration else means.bytes
        if value is None:
            continue
        if (value > limit) if bound.is_maximum else (value < limit):
            found.add(bound)
    return frozenset(found)


def daily_series(
    rows: Sequence[DailyPerformance], start: date, days: int, *, size: bool
) -> list[float | None]:
    """One value per day from `start` (None for a day without jobs): seconds, or bytes."""
    by_day = {row.day: (row.average_bytes if size else row.average_seconds) for row in rows}
    return [by_day.get(start + timedelta(days=i)) for i in range(days)]


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value, scaled from the lowest to the highest; a gap for None."""
    known = [v for v in values if v is not None]
    if not known:
        return SPARK_GAP * len(values)
    low, high = min(known), max(known)
    top = len(SPARK_BARS) - 1
    bars = []
    for value in values:
        if value is None:
            bars.append(SPARK_GAP)
        elif high == low:
            bars.append(SPARK_BARS[top // 2])
        else:
            bars.append(SPARK_BARS[round((value - low) / (high - low) * top)])
    return "".join(bars)


def outside_since(
    series: Sequence[float | None], start: date, limit: float, *, maximum: bool
) -> date | None:
    """The first day of the latest run of days outside `limit` (days without jobs do not break
    a run), or None when the latest day with jobs is inside."""
    since: date | None = None
    for offset in range(len(series) - 1, -1, -1):
        value = series[offset]
        if value is None:
            continue
        if (value > limit) if maximum else (value < limit):
            since = start + timedelta(days=offset)
        else:
            break
    return since


@dataclass(frozen=True)
class BoundsCrossed:
    target: str
    bounds: frozenset[Bound]  # crossed now (were inside before)
    means: Averages


async def check_bounds(
    uow: UnitOfWork,
    target: str,
    bounds: PerformanceBounds,
    now: datetime,
    job_id: int | None = None,
) -> BoundsCrossed | None:
    """Compare the target's averages over its window with its bounds; a bound newly crossed
    writes one `performance` event (C1). Bounds back inside re-arm."""
    if not bounds.any:
        return None
    window = first_day(now, bounds.window_days)
    shown = first_day(now, DEFAULT_STATS_DAYS)  # what the alert's chart and words show
    rows = await uow.performance.daily(day_start(min(window, shown)), window_end(now), [target])
    means = averages(r for r in rows if r.day >= window)
    now_outside = outside(bounds, means)
    before = await uow.performance.outside(target)
    if now_outside == before:
        return None
    if not await uow.performance.set_outside(target, before, now_outside, now):
        return None  # another process changed it first: it judged this crossing
    crossed = now_outside - before
    if not crossed:
        return None
    limits = bounds.limits()
    await uow.outbox.add(
        OutboxEvent(
            EventKind.PERFORMANCE_BOUND,
            target,
            now,
            {
                "bounds": sorted(b.value for b in crossed),
                "limits": {b.value: v for b, v in sorted(limits.items())},
                "avg_seconds": means.seconds,
                "avg_bytes": means.bytes,
                "jobs": means.jobs,
                "window_days": bounds.window_days,
                "job": job_id,  # the job whose end tipped the average: the alert links to it
                # The days the alert's chart shows, so its words need no second query.
                "start": shown.isoformat(),
                "seconds": daily_series(rows, shown, DEFAULT_STATS_DAYS, size=False),
                "bytes": daily_series(rows, shown, DEFAULT_STATS_DAYS, size=True),
            },
        )
    )
    return BoundsCrossed(target, crossed, means)
