"""`audit` (C5 in chat): an export of jobs or of the action log, built in the background.

The handler checks and answers at once; the export starts after the commit (it reads the
database outside this unit of work) and shows its own progress where it was asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from core.commands import model as c
from core.domain.authorization import require
from core.domain.capabilities import Capability
from core.errors import InvalidCommand
from core.exports.spec import ExportSpec, ExportWhat
from core.handlers.context import Context, Handler
from core.jobs.export import ExportFormat
from core.views.exports import started_message
from core.views.message import Message

DEFAULT_WINDOW = timedelta(days=30)  # `audit` alone: the last 30 days


async def export_audit(cmd: c.ExportAudit, ctx: Context) -> Message:
    target = ctx.target(cmd.target).name if cmd.target is not None else None
    await require(ctx.uow, ctx.actor, Capability.MANAGE_EXPORTS, target)
    until = cmd.until or ctx.clock.now()
    since = cmd.since or _before(until, DEFAULT_WINDOW)
    if since >= until:
        raise InvalidCommand(
            "error.since_after_until",
            since=_as_typed(since, ctx.t.time),
            until=_as_typed(until - timedelta(days=1), ctx.t.time, whole_day=until),
        )
    if ctx.exports is None:
        raise InvalidCommand("error.exports_unavailable")
    if not ctx.exports.reaches(ctx.actor):
        raise InvalidCommand("error.exports_unreachable")
    spec = ExportSpec(ExportWhat(cmd.what), ExportFormat(cmd.fmt), since, until, target)
    launcher, actor = ctx.exports, ctx.actor
    ctx.after_commit.append(lambda: launcher.start(spec, actor))
    return started_message(ctx.t, spec)


def _before(moment: datetime, window: timedelta) -> datetime:
    try:
        return moment - window
    except OverflowError:  # year 1: from the beginning of time
        return datetime.min.replace(tzinfo=UTC)


HANDLERS: dict[type[c.Command], Handler] = {c.ExportAudit: export_audit}


def _as_typed(
    moment: datetime, shown: Callable[[datetime], str], *, whole_day: datetime | None = None
) -> str:
    """A bound as the person typed it: a day for a midnight (an `--until` day is stored as the
    next midnight, so `whole_day` is that stored end and `moment` the day it includes)."""
    at = whole_day if whole_day is not None else moment
    if at.time() == time(0) and at.tzinfo is not None and at.utcoffset() == timedelta(0):
        return moment.date().isoformat()
    return shown(at)
