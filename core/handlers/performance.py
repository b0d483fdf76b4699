"""`stats [target] [--days N]` (C6): how long a target's exports take and how much they weigh,
day by day, against its bounds; with a chart for one target."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from core.commands import model as c
from core.domain.authorization import require, visible_targets
from core.domain.capabilities import Capability
from core.domain.model import TargetSpec
from core.domain.performance import DailyPerformance, day_start, first_day, window_end
from core.errors import PermissionDenied
from core.handlers.context import Context, Handler
from core.i18n import Translator
from core.ports import Charts, UnitOfWork
from core.views.message import Image, Message, Tone
from core.views.performance import (
    TargetPerformance,
    chart,
    status_words,
    target_section,
)


async def load_performance(
    uow: UnitOfWork, specs: Sequence[TargetSpec], now: datetime, days: int
) -> list[TargetPerformance]:
    """Each target's days shown and its bounds' window, from one aggregate query."""
    longest = max([days, *(s.performance.window_days for s in specs)])
    rows = await uow.performance.daily(
        day_start(first_day(now, longest)), window_end(now), [s.name for s in specs]
    )
    start = first_day(now, days)
    by_target: dict[str, list[DailyPerformance]] = {}
    for row in rows:  # one pass: the rows of a hundred targets over a year are 36,600
        by_target.setdefault(row.target, []).append(row)
    found = []
    for spec in specs:
        own = by_target.get(spec.name, [])
        window = first_day(now, spec.performance.window_days)
        found.append(
            TargetPerformance(
                spec.name,
                spec.performance,
                tuple(r for r in own if r.day >= start),
                tuple(r for r in own if r.day >= window),
                start,
                days,
            )
        )
    return found


async def chart_image(t: Translator, perf: TargetPerformance, charts: Charts) -> Image:
    """The target's chart: drawn (for the platforms that upload it) and linked (for those
    that fetch it), with the sentence describing it as its alt text."""
    drawn = chart(t, perf)
    png = await asyncio.to_thread(charts.draw, drawn)
    return Image(
        charts.link(perf.target, perf.days),
        drawn.alt_text,
        data=png,
        filename=f"stats-{perf.target}-{perf.days}d.png",
    )


async def show_stats(cmd: c.ShowStats, ctx: Context) -> Message:
    t, now = ctx.t, ctx.clock.now()
    if cmd.target is not None:
        spec = ctx.target(cmd.target)
        await require(ctx.uow, ctx.actor, Capability.VIEW, spec.name)
        [perf] = await load_performance(ctx.uow, [spec], now, cmd.days)
        crossed = bool(perf.outside())
        images: tuple[Image, ...] = ()
        if ctx.charts is not None and perf.rows:
            images = (await chart_image(t, perf, ctx.charts),)
        status = status_words(t, perf)
        return Message(
            title=t.t("stats.title", target=spec.name, days=t.t("count.days", count=cmd.days)),
            status=status,
            tone=Tone.WARNING if crossed else Tone.SUCCESS if perf.bounds.any else Tone.NEUTRAL,
            sections=(target_section(t, perf),),
            images=images,
            summary=t.t(
                "stats.summary",
                target=spec.name,
                status=status,
                days=t.t("count.days", count=cmd.days),
            ),
        )
    names = await visible_targets(ctx.uow, ctx.actor.principal, list(ctx.targets))
    if not names:
        raise PermissionDenied(capability=Capability.VIEW.value, target="")
    perfs = await load_performance(ctx.uow, [ctx.targets[n] for n in names], now, cmd.days)
    sections = [target_section(t, p) for p in perfs]
    outside = [p.target for p in perfs if p.outside()]
    return Message(
        title=t.t("stats.all_title", days=t.t("count.days", count=cmd.days)),
        status=t.t("stats.some_outside", targets=", ".join(outside))
        if outside
        else t.t("stats.all_within"),
        tone=Tone.WARNING if outside else Tone.NEUTRAL,
        sections=tuple(sections),
        footer=t.t("stats.chart_hint", prefix=ctx.prefix),
        summary=t.t("stats.all_summary", count=len(perfs), days=t.t("count.days", count=cmd.days)),
    )


HANDLERS: dict[type[c.Command], Handler] = {c.ShowStats: show_stats}
