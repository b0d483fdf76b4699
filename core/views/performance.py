"""`stats` in words (C6): per target a sparkline of each series, min / average / max in words,
where it stands against its bounds, and the chart's description: one sentence saying the trend.

Everything here is pure: rows and a clock in, text out. The chart itself is drawn outside the
core (bot/charts.py) from the `PerformanceChart` made here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from core.domain.model import Bound, PerformanceBounds
from core.domain.performance import (
    DailyPerformance,
    averages,
    daily_series,
    outside,
    outside_since,
    sparkline,
)
from core.i18n import Translator

STEADY = 0.05  # a change under 5 % reads as "stayed around"


@dataclass(frozen=True)
class BoundLine:
    """A bound drawn on a panel: its value in the panel's unit, and its label in words."""

    value: float
    label: str
    maximum: bool


@dataclass(frozen=True)
class PerformanceChart:
    """What the chart shows, already scaled and in words; its drawer decides nothing."""

    title: str
    days: tuple[date, ...]
    durations: tuple[float | None, ...]  # in `duration_unit`
    sizes: tuple[float | None, ...]  # in `size_unit`
    duration_label: str  # the axis label, unit included
    size_label: str
    day_label: str
    duration_bounds: tuple[BoundLine, ...]
    size_bounds: tuple[BoundLine, ...]
    alt_text: str


def short_duration(t: Translator, seconds: float) -> str:
    """`0.4 s`, `45 s`, `9 min`, `2 h 5 min`: rounded for reading, not for accounting."""
    if seconds < 9.95:
        return f"{t.decimal(seconds)} s"
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes = int(seconds / 60 + 0.5)  # half up, as people round (10.5 min → 11 min)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _amount(t: Translator, bound: Bound, value: float) -> str:
    return short_duration(t, value) if bound.is_duration else t.size(round(value))


def bound_words(t: Translator, bound: Bound, limit: float) -> str:
    """`above the 8 min bound` / `below the 1.0 GB minimum` (what is outside, not why)."""
    key = "stats.bound_above" if bound.is_maximum else "stats.bound_below"
    return t.t(key, bound=_amount(t, bound, limit))


def _when(t: Translator, day: date, today: date) -> str:
    if day == today:
        return t.t("stats.alt.since_today")
    if today - day < timedelta(days=7):
        return t.t("stats.alt.since_weekday", day=t.t(f"weekday.{day.weekday()}"))
    return t.t("stats.alt.since_date", date=t.day(day))


Show = Callable[[float], str]


def _trend(t: Translator, series: Sequence[float | None], what: str, show: Show) -> str:
    known = [v for v in series if v is not None]
    first, last = known[0], known[-1]
    words = {"first": show(first), "last": show(last)}
    if abs(last - first) <= STEADY * max(abs(first), 1e-9):
        return t.t(f"stats.alt.{what}_steady", value=show(sum(known) / len(known)))
    return t.t(f"stats.alt.{what}_{'rose' if last > first else 'fell'}", **words)


def alt_text(
    t: Translator,
    target: str,
    durations: Sequence[float | None],
    sizes: Sequence[float | None],
    start: date,
    bounds: PerformanceBounds,
) -> str:
    """One sentence: how the daily averages moved over the days shown, and since when they
    are outside a bound ("Average duration rose from 4 min to 9 min over 14 days; above the
    8 min bound since Tuesday.")."""
    days = len(durations)
    today = start + timedelta(days=days - 1)
    if all(v is None for v in durations):
        return t.t("stats.alt.empty", target=target, days=t.t("count.days", count=days))
    parts = [_trend(t, durations, "duration", lambda v: short_duration(t, v))]
    if any(v is not None for v in sizes):
        parts.append(_trend(t, sizes, "size", lambda v: t.size(round(v))))
    sentence = t.t("stats.alt.and").join(parts)
    clauses = []
    for bound, limit in bounds.limits().items():
        series = durations if bound.is_duration else sizes
        since = outside_since(series, start, limit, maximum=bound.is_maximum)
        if since is not None:
            clauses.append(
                t.t(
                    "stats.alt.bound",
                    bound=bound_words(t, bound, limit),
                    when=_when(t, since, today),
                )
            )
    text = t.t(
        "stats.alt.sentence",
        trend=sentence,
        days=t.t("count.days", count=days),
        bounds="".join(clauses),
    )
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class TargetPerformance:
    """One target's rows over the days shown, and its averages over its bounds' window."""

    target: str
    bounds: PerformanceBounds
    rows: tuple[DailyPerformance, ...]  # the days shown
    window_rows: tuple[DailyPerformance, ...]  # the bounds' window
    start: date
    days: int

    @property
    def durations(self) -> list[float | None]:
        return daily_series(self.rows, self.start, self.days, size=False)

    @property
    def sizes(self) -> list[float | None]:
        return daily_series(self.rows, self.start, self.days, size=True)

    def outside(self) -> dict[Bound, float]:
        """The bounds the window's average is outside of, with their limits."""
        limits = self.bounds.limits()
        crossed = outside(self.bounds, averages(self.window_rows))
        return {bound: limit for bound, limit in limits.items() if bound in crossed}


def _range_line(
    t: Translator, key: str, series: Sequence[float | None], mean: float, show: Show, tail: str
) -> str:
    known = [v for v in series if v is not None]
    return t.t(
        key,
        spark=sparkline(series),
        min=show(min(known)),
        max=show(max(known)),
        avg=show(mean),
        bounds=tail,
    )


def target_section(t: Translator, perf: TargetPerformance) -> str:
    """The target's lines: a heading, then duration and size, each a sparkline and words."""
    means = averages(perf.rows)
    if means.seconds is None:
        return t.t("stats.no_jobs", target=perf.target, days=t.t("count.days", count=perf.days))
    crossed = perf.outside()

    def tail(is_duration: bool) -> str:
        said = [
            bound_words(t, bound, limit)
            for bound, limit in crossed.items()
            if bound.is_duration == is_duration
        ]
        return "".join(t.t("stats.bound_clause", bound=words) for words in said)

    lines = [
        t.t(
            "stats.heading",
            target=perf.target,
            jobs=t.t("count.successful_jobs", count=means.jobs),
            days=t.t("count.days", count=perf.days),
        ),
        _range_line(
            t,
            "stats.duration_line",
            perf.durations,
            means.seconds,
            lambda v: short_duration(t, v),
            tail(True),
        ),
    ]
    if means.bytes is None:
        lines.append(t.t("stats.size_none"))
    else:

        def size(value: float) -> str:
            return t.size(round(value))

        lines.append(_range_line(t, "stats.size_line", perf.sizes, means.bytes, size, tail(False)))
    return "\n".join(lines)


def status_words(t: Translator, perf: TargetPerformance) -> str:
    if not perf.bounds.any:
        return t.t("stats.no_bounds")
    return t.t("stats.outside_bounds") if perf.outside() else t.t("stats.within_bounds")


def _scale_seconds(series: Sequence[float | None]) -> tuple[float, str]:
    top = max((v for v in series if v is not None), default=0.0)
    if top >= 7200:
        return 3600.0, "h"
    return (60.0, "min") if top >= 120 else (1.0, "s")


def _scale_bytes(t: Translator, series: Sequence[float | None]) -> tuple[float, str]:
    top = max((v for v in series if v is not None), default=0.0)
    units = t.byte_units()
    divisor = 1.0
    for unit in units:
        if top < 1000 * divisor or unit == units[-1]:
            return divisor, unit
        divisor *= 1000
    raise AssertionError("unreachable")


def chart(t: Translator, perf: TargetPerformance) -> PerformanceChart:
    return series_chart(t, perf.target, perf.start, perf.durations, perf.sizes, perf.bounds)


def series_chart(
    t: Translator,
    target: str,
    start: date,
    durations: Sequence[float | None],
    sizes: Sequence[float | None],
    bounds: PerformanceBounds,
) -> PerformanceChart:
    """The chart of daily series from `start` (seconds, bytes), with `bounds` drawn."""
    days = len(durations)
    limits = bounds.limits()
    seconds_div, seconds_unit = _scale_seconds(
        [*durations, *(v for b, v in limits.items() if b.is_duration)]
    )
    bytes_div, bytes_unit = _scale_bytes(
        t, [*sizes, *(v for b, v in limits.items() if not b.is_duration)]
    )

    def lines(is_duration: bool, divisor: float) -> tuple[BoundLine, ...]:
        return tuple(
            BoundLine(
                limit / divisor,
                t.t(
                    "stats.chart.maximum" if bound.is_maximum else "stats.chart.minimum",
                    bound=_amount(t, bound, limit),
                ),
                bound.is_maximum,
            )
            for bound, limit in limits.items()
            if bound.is_duration == is_duration
        )

    return PerformanceChart(
        title=t.t("stats.chart_title", target=target, days=t.t("count.days", count=days)),
        days=tuple(start + timedelta(days=i) for i in range(days)),
        durations=tuple(None if v is None else v / seconds_div for v in durations),
        sizes=tuple(None if v is None else v / bytes_div for v in sizes),
        duration_label=t.t("stats.axis.duration", unit=seconds_unit),
        size_label=t.t("stats.axis.size", unit=bytes_unit),
        day_label=t.t("stats.axis.day"),
        duration_bounds=lines(True, seconds_div),
        size_bounds=lines(False, bytes_div),
        alt_text=alt_text(t, target, durations, sizes, start, bounds),
    )
