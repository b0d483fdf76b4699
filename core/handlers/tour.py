"""`tour` and the tour's buttons (D1): anyone may take the tour, with or without a role."""

from __future__ import annotations

from core.commands import model as c
from core.domain.tour import TourState
from core.handlers.context import Context, Handler
from core.views.message import Message
from core.views.tour import tour_ended, tour_step


async def show_tour(cmd: c.ShowTour, ctx: Context) -> Message:
    # Typed or pressed, the principal has now seen the tour: never offered it again.
    await ctx.uow.tours.offer(ctx.actor.principal, ctx.clock.now())
    return tour_step(ctx.t, ctx.prefix, cmd.step)


async def end_tour(cmd: c.EndTour, ctx: Context) -> Message:
    state = TourState.FINISHED if cmd.finished else TourState.SKIPPED
    await ctx.uow.tours.end(ctx.actor.principal, state, ctx.clock.now())
    return tour_ended(ctx.t, ctx.prefix, finished=cmd.finished)


HANDLERS: dict[type[c.Command], Handler] = {
    c.ShowTour: show_tour,
    c.EndTour: end_tour,
}
