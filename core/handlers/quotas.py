"""`quota [target] [--recount]` (B4): usage, limit, thresholds, growth and days until full."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from core.commands import model as c
from core.domain.authorization import require, visible_targets
from core.domain.capabilities import Capability
from core.domain.model import ARCHIVE_SUFFIXES, TargetSpec
from core.domain.quotas import (
    GROWTH_WINDOW,
    QuotaUsage,
    check_thresholds,
    days_until_full,
    percent,
)
from core.domain.schedules import ArchiveRecord
from core.errors import InvalidCommand, PermissionDenied
from core.handlers.context import Context, Handler
from core.i18n import Translator
from core.views.message import Field, Message, Tone

BAR_WIDTH = 20


async def show_quota(cmd: c.ShowQuota, ctx: Context) -> Message:
    if cmd.recount:
        if cmd.target is None:
            raise InvalidCommand("error.recount_needs_target", usage="quota <target> --recount")
        spec = ctx.target(cmd.target)
        await require(ctx.uow, ctx.actor, Capability.MANAGE_EXPORTS, spec.name)
        return await _recount(spec, ctx)
    if cmd.target is not None:
        spec = ctx.target(cmd.target)
        await require(ctx.uow, ctx.actor, Capability.VIEW, spec.name)
        return await _quota_message(spec, ctx)
    names = await visible_targets(ctx.uow, ctx.actor.principal, list(ctx.targets))
    if not names:
        raise PermissionDenied(capability=Capability.VIEW.value, target="")
    lines = []
    for name in names:
        usage = await ctx.uow.quotas.get(name)
        lines.append(quota_line(ctx.t, ctx.targets[name], usage))
    return Message(
        title=ctx.t.t("quota.all_title"),
        sections=("\n".join(lines),),
        summary=ctx.t.t("quota.all_summary", count=len(names)),
    )


def _used(usage: QuotaUsage | None) -> tuple[int, int]:
    return (usage.used_bytes, usage.archive_count) if usage else (0, 0)


def bar(level: float) -> str:
    filled = min(BAR_WIDTH, round(level * BAR_WIDTH / 100))
    return "▓" * filled + "░" * (BAR_WIDTH - filled)


def _status(t: Translator, spec: TargetSpec, used: int) -> tuple[str, Tone]:
    limit = spec.quota.limit_bytes
    if limit is None:
        return t.t("quota.unlimited"), Tone.NEUTRAL
    level = percent(used, limit)
    reached = [th for th in spec.quota.thresholds if level >= th]
    if not reached:
        return t.t("quota.within"), Tone.SUCCESS
    if max(reached) >= 100:
        return t.t("quota.full"), Tone.DANGER
    return t.t("quota.above", threshold=max(reached)), Tone.WARNING


def quota_line(t: Translator, spec: TargetSpec, usage: QuotaUsage | None) -> str:
    used, count = _used(usage)
    status, _ = _status(t, spec, used)
    limit = spec.quota.limit_bytes
    if limit is None:
        return t.t(
            "quota.line_unlimited", target=spec.name, used=t.size(used), count=count, status=status
        )
    level = percent(used, limit)
    return t.t(
        "quota.line",
        target=spec.name,
        status=status,
        bar=bar(level),
        percent=t.number(round(level)),
        used=t.size(used),
        limit=t.size(limit),
    )


async def _quota_message(spec: TargetSpec, ctx: Context, note: str = "") -> Message:
    t = ctx.t
    usage = await ctx.uow.quotas.get(spec.name)
    used, count = _used(usage)
    status, tone = _status(t, spec, used)
    now = ctx.clock.now()
    added, removed = await ctx.uow.archives.growth(spec.name, now - GROWTH_WINDOW)
    per_day = (added - removed) / GROWTH_WINDOW.days
    fields = [Field(t.t("field.used"), t.size(used)), Field(t.t("field.archives"), t.number(count))]
    sections = [note] if note else []
    limit = spec.quota.limit_bytes
    if limit is not None:
        level = percent(used, limit)
        fired = usage.fired if usage else frozenset()
        fields[0] = Field(
            t.t("field.used"),
            f"{bar(level)} "
            + t.t(
                "quota.used_of",
                used=t.size(used),
                limit=t.size(limit),
                percent=t.number(round(level)),
            ),
        )
        fields.append(
            Field(
                t.t("field.thresholds"),
                ", ".join(
                    f"{th} %" + (f" ({t.t('quota.crossed')})" if th in fired else "")
                    for th in spec.quota.thresholds
                ),
            )
        )
        days = days_until_full(used, limit, per_day)
        fields.append(
            Field(
                t.t("field.full_in"),
                t.t("quota.not_growing")
                if days is None
                else t.t("quota.days", days=t.t("count.days", count=round(days))),
            )
        )
    growth_key = "quota.growth" if per_day >= 0 else "quota.shrinking"
    growth = t.t(
        growth_key,
        size=t.size(round(abs(per_day))),
        days=t.t("count.days", count=GROWTH_WINDOW.days),
    )
    fields.append(Field(t.t("field.growth"), growth))
    fields.append(Field(t.t("field.storage"), spec.quota.storage))
    return Message(
        title=t.t("quota.title", target=spec.name),
        status=status,
        tone=tone,
        field_separator=t.t("field.separator"),
        fields=tuple(fields),
        sections=tuple(sections),
        summary=t.t("quota.summary", target=spec.name, status=status, used=t.size(used)),
    )


@dataclass(frozen=True)
class _DiskState:
    sizes: dict[str, int]  # recorded archive path → size on disk
    missing: list[str]
    unrecorded: list[str]


def _scan(archive_dir: str, target: str, kept: list[ArchiveRecord]) -> _DiskState:
    sizes: dict[str, int] = {}
    missing: list[str] = []
    for archive in kept:
        try:
            sizes[archive.path] = os.stat(archive.path).st_size
        except FileNotFoundError:
            missing.append(archive.path)
    recorded = {os.path.abspath(a.path) for a in kept}
    unrecorded = []
    try:
        with os.scandir(archive_dir) as entries:
            for entry in entries:
                if (
                    entry.name.startswith(f"{target}-")
                    and entry.name.endswith(tuple(ARCHIVE_SUFFIXES.values()))
                    and os.path.abspath(entry.path) not in recorded
                ):
                    unrecorded.append(entry.name)
    except FileNotFoundError:
        pass
    return _DiskState(sizes, missing, sorted(unrecorded))


async def _recount(spec: TargetSpec, ctx: Context) -> Message:
    t = ctx.t
    now = ctx.clock.now()
    before = _used(await ctx.uow.quotas.get(spec.name))[0]
    kept = list(await ctx.uow.archives.kept(spec.name))
    disk = await asyncio.to_thread(_scan, spec.archive_dir, spec.name, kept)
    for archive in kept:
        if archive.path in disk.missing:
            await ctx.uow.archives.mark_deleted(archive.id, now)
            await ctx.audit(
                "archive.missing", target=spec.name, job_id=archive.job_id, detail=archive.path
            )
    used = sum(disk.sizes.values())
    usage = await ctx.uow.quotas.reset(spec.name, spec.quota.storage, used, len(disk.sizes), now)
    await check_thresholds(ctx.uow, usage, spec.quota, now)
    await ctx.audit("quota.recount", target=spec.name, detail=f"{before} → {used} bytes")
    note = t.t(
        "quota.recounted",
        before=t.size(before),
        after=t.size(used),
        missing=t.t("count.archives_missing", count=len(disk.missing)),
        unrecorded=t.t("count.files_unrecorded", count=len(disk.unrecorded)),
    )
    if disk.unrecorded:
        note += "\n" + t.t("quota.unrecorded", names=", ".join(disk.unrecorded[:10]))
    return await _quota_message(spec, ctx, note)


HANDLERS: dict[type[c.Command], Handler] = {c.ShowQuota: show_quota}
