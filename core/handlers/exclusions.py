"""`exclude <target>` (D2): the presets previewed on the target's tree, and adding one, which
opens (or edits) a schedule draft: an exclusion goes through four-eyes review like any
schedule change."""

from __future__ import annotations

from dataclasses import replace

from core.commands import model as c
from core.domain.authorization import require
from core.domain.capabilities import Capability
from core.domain.model import TargetKind, TargetSpec
from core.errors import InvalidCommand
from core.exclusions.presets import PRESET_IDS, Preset, find_preset, presets
from core.exclusions.service import PreviewRequest
from core.handlers.context import Context, Handler
from core.handlers.schedules import draft_schedule
from core.views.exclusions import started_message
from core.views.message import Message, Tone


async def show_exclusions(cmd: c.ShowExclusions, ctx: Context) -> Message:
    spec = _archive_target(ctx, cmd.target)
    await require(ctx.uow, ctx.actor, Capability.DRAFT, spec.name)
    if ctx.previews is None:
        raise InvalidCommand("error.exclude_unavailable")
    if not ctx.previews.reaches(ctx.actor):
        raise InvalidCommand("error.exclude_unreachable")
    if ctx.previews.busy(spec.name):
        raise InvalidCommand("error.exclude_busy", target=spec.name)
    active = await ctx.uow.schedules.active(spec.name)
    draft = await ctx.uow.drafts.open_by_author(spec.name, ctx.actor.principal)
    base = draft.spec if draft else (active.spec if active else None)
    scheduled = base.exclude if base else ()
    current = (*spec.exclude, *scheduled)
    present = frozenset(p.id for p in presets(cmd.over_mb) if set(p.entries) <= set(current))
    request = PreviewRequest(
        spec.name, spec.source, current, present, cmd.over_mb, ctx.prefix_for("exclude")
    )
    launcher, actor = ctx.previews, ctx.actor
    ctx.after_commit.append(lambda: launcher.start(request, actor))
    return started_message(ctx.t, spec.name)


async def add_exclusion(cmd: c.AddExclusion, ctx: Context) -> Message:
    spec = _archive_target(ctx, cmd.target)
    await require(ctx.uow, ctx.actor, Capability.DRAFT, spec.name)
    preset = find_preset(cmd.preset, cmd.over_mb)
    if preset is None:
        raise InvalidCommand(
            "error.exclude_unknown_preset",
            preset=cmd.preset[:40],
            presets=", ".join(PRESET_IDS),
        )
    t = ctx.t
    draft = await ctx.uow.drafts.open_by_author(spec.name, ctx.actor.principal)
    active = await ctx.uow.schedules.active(spec.name)
    base = draft.spec if draft else (active.spec if active else None)
    if base is None:
        line = t.t("exclude.no_schedule", target=spec.name, prefix=ctx.prefix_for("schedule draft"))
        return _plain(ctx, spec.name, line, Tone.WARNING, "exclude.status.no_schedule")
    missing = _missing(preset, (*spec.exclude, *base.exclude))
    if not missing:
        if not _missing(preset, spec.exclude):
            where = t.t("exclude.in_config")
        elif draft is not None:
            where = t.t("exclude.in_draft", draft=draft.id)
        else:
            where = t.t("exclude.in_schedule")
        line = t.t("exclude.already", preset=preset.id, target=spec.name, where=where)
        return _plain(ctx, spec.name, line, Tone.NEUTRAL, "exclude.status.already")
    command = c.DraftSchedule(
        spec.name, base.cron, base.timezone, exclude=(*base.exclude, *missing)
    )
    message = await draft_schedule(command, ctx)
    written = await ctx.uow.drafts.open_by_author(spec.name, ctx.actor.principal)
    number = written.id if written is not None else 0
    added = t.t(
        "exclude.added",
        patterns=", ".join(f"`{e}`" for e in missing),
        draft=number,
        target=spec.name,
        prefix=ctx.prefix_for("schedule submit"),
    )
    return replace(message, sections=(added, *message.sections), summary=added)


def _archive_target(ctx: Context, name: str) -> TargetSpec:
    spec = ctx.target(name)
    if spec.kind is not TargetKind.ARCHIVE or not spec.source:
        raise InvalidCommand("error.exclude_no_tree", target=spec.name, kind=spec.kind.value)
    return spec


def _missing(preset: Preset, current: tuple[str, ...]) -> tuple[str, ...]:
    have = set(current)
    return tuple(e for e in preset.entries if e not in have)


def _plain(ctx: Context, target: str, line: str, tone: Tone, status_key: str) -> Message:
    return Message(
        title=ctx.t.t("exclude.title", target=target),
        status=ctx.t.t(status_key),
        tone=tone,
        sections=(line,),
        summary=line,
    )


HANDLERS: dict[type[c.Command], Handler] = {
    c.ShowExclusions: show_exclusions,
    c.AddExclusion: add_exclusion,
}
