"""Handlers of `schedule …` (B5): drafts, four eyes, activation, expiry, prune preview."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import datetime

from core.commands import model as c
from core.commands.actions import MAX_COMMENT
from core.domain import cron
from core.domain.audit import audit_entry
from core.domain.authorization import grants_allow, require, visible_targets
from core.domain.capabilities import Capability
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import SYSTEM_ACTOR, Outcome
from core.domain.schedules import (
    Decision,
    Draft,
    DraftState,
    NewDraft,
    Retention,
    ScheduleSpec,
    Verdict,
    prune_candidates,
)
from core.domain.subscriptions import AlertKind, Destination, Severity
from core.errors import InvalidCommand, NotFound, PermissionDenied
from core.handlers.context import Context, Handler
from core.handlers.subscriptions import destination_of
from core.i18n import Translator
from core.ports import Clock, UnitOfWork
from core.safety.links import PageLinks
from core.safety.redaction import redact
from core.views.message import Field, Message
from core.views.schedules import draft_message, new_draft_action, prune_text, schedule_message


async def show_schedule(cmd: c.ShowSchedule, ctx: Context) -> Message:
    spec = ctx.target(cmd.target)
    await require(ctx.uow, ctx.actor, Capability.VIEW, spec.name)
    active = await ctx.uow.schedules.active(spec.name)
    return schedule_message(ctx.t, spec.name, active, ctx.clock.now())


async def draft_schedule(cmd: c.DraftSchedule, ctx: Context) -> Message:
    target = ctx.target(cmd.target).name
    await require(ctx.uow, ctx.actor, Capability.DRAFT, target)
    await expire_overdue_drafts(ctx)
    expression = cron.validate(cmd.cron)
    cron.zone(cmd.timezone)
    now = ctx.clock.now()
    draft = await ctx.uow.drafts.open_by_author(target, ctx.actor.principal)
    active = await ctx.uow.schedules.active(target)
    # What the command leaves out stays as it was: in the draft being edited, else as active.
    base = draft.spec if draft else (active.spec if active else None)
    retention = (
        Retention(cmd.keep_count, cmd.keep_days)
        if cmd.keep_count is not None or cmd.keep_days is not None
        else (base.retention if base else Retention())
    )
    exclude = cmd.exclude if cmd.exclude is not None else (base.exclude if base else ())
    new_spec = ScheduleSpec(expression, cmd.timezone, retention, exclude)
    if draft is None:
        draft = await ctx.uow.drafts.add(
            NewDraft(
                target,
                ctx.actor.principal,
                ctx.actor.display_name,
                new_spec,
                now,
                now + ctx.draft_ttl,
            )
        )
        action = "draft.created"
    else:
        draft.edit(new_spec, now, ctx.draft_ttl)
        await ctx.uow.drafts.save(draft)
        action = "draft.edited"
    await ctx.audit(action, target=target, detail=f"draft #{draft.id} v{draft.version}")
    message = await _draft_view(draft, ctx)
    footer = ctx.t.t("draft.next_step", prefix=ctx.prefix, draft=draft.id)
    if draft.state is DraftState.SUBMITTED:
        footer = ctx.t.t("draft.edited_voids", version=draft.version)
    return _with_footer(message, footer)


async def list_drafts(cmd: c.ListDrafts, ctx: Context) -> Message:
    await expire_overdue_drafts(ctx)
    names = set(await visible_targets(ctx.uow, ctx.actor.principal, list(ctx.targets)))
    if not names:
        raise PermissionDenied(capability=Capability.VIEW.value, target="")
    drafts = [d for d in await ctx.uow.drafts.open_drafts() if d.target in names]
    t = ctx.t
    lines = [
        t.t(
            "drafts.line",
            draft=d.id,
            target=d.target,
            version=d.version,
            state=t.t(f"draft.state.{d.state.value}"),
            author=d.author_name,
            cron=d.spec.cron,
            timezone=d.spec.timezone,
        )
        for d in drafts
    ]
    body = "\n".join(lines) or t.t("drafts.none")
    return Message(
        title=t.t("drafts.title"),
        sections=(body,),
        actions=(new_draft_action(t),),  # Teams and Discord have no App Home to start one from
        summary=t.t("drafts.summary", count=len(drafts)),
    )


async def submit_draft(cmd: c.SubmitDraft, ctx: Context) -> Message:
    draft = await _authored_draft(cmd.draft_id, ctx)
    draft.submit(ctx.clock.now(), ctx.draft_ttl)
    await ctx.uow.drafts.save(draft)
    await ctx.audit("draft.submitted", target=draft.target, detail=f"draft #{draft.id}")
    # The card is the reply, shown to the whole conversation: the reviewer sitting next to
    # the author sees it there. Subscribed channels get it through the outbox, this one not
    # twice (`shown_in`).
    # A person's own chat with the bot (a Teams personal chat) is no place anyone else reads.
    shared_here = bool(ctx.actor.channel) and not ctx.actor.direct
    here = destination_of(ctx) if shared_here else None
    elsewhere = await _review_destinations(ctx, draft.target) - ({here} if here else set())
    await _event(ctx, EventKind.DRAFT_SUBMITTED, draft, **({"shown_in": here.key} if here else {}))
    lines = [_where_sent(ctx, here is not None, len(elsewhere))]
    if not await _someone_else_may_approve(ctx, draft):
        grant = ctx.prefix_for("role grant")  # `/export-admin ` on Discord
        lines.append(ctx.t.t("draft.no_reviewer", target=draft.target, prefix=grant))
    lines.append(ctx.t.t("draft.submitted_footer", prefix=ctx.prefix, draft=draft.id))
    return replace(await _draft_view(draft, ctx), footer="\n".join(lines), shared=True)


async def _review_destinations(ctx: Context, target: str) -> set[Destination]:
    """The channels (and webhooks) subscribed to `review` alerts of `target`."""
    return {
        s.destination
        for s in await ctx.uow.subscriptions.for_target(target)
        if s.wants(target, AlertKind.REVIEW, Severity.INFO)
    }


def _where_sent(ctx: Context, here: bool, elsewhere: int) -> str:
    """ "Sent for review here and to 2 subscribed channels" (no names: the bot keeps none)."""
    where = "here" if here else "away"
    key = f"draft.sent.{where}.none" if elsewhere == 0 else f"draft.sent.{where}.channels"
    return ctx.t.t(key, count=elsewhere, prefix=ctx.prefix)


async def _someone_else_may_approve(ctx: Context, draft: Draft) -> bool:
    """Whether a grant lets anyone but the author approve this draft (four eyes). The bot
    knows grants, not who is in which channel: that is all this says."""
    return any(
        g.principal != draft.author and grants_allow([g], Capability.APPROVE, draft.target)
        for g in await ctx.uow.grants.all()
    )


async def review_draft(cmd: c.ReviewDraft, ctx: Context) -> Message:
    if len(cmd.comment) > MAX_COMMENT:
        raise InvalidCommand("error.comment_too_long", max=MAX_COMMENT, length=len(cmd.comment))
    draft = await _draft(cmd.draft_id, ctx)
    await require(ctx.uow, ctx.actor, Capability.APPROVE, draft.target)
    now = ctx.clock.now()
    comment = redact(cmd.comment)  # G3: shown to every reviewer and sent with the alert
    decision = Decision(
        ctx.actor.principal, ctx.actor.display_name, cmd.verdict, draft.version, now, comment
    )
    quorum = ctx.target(draft.target).approvals_required
    complete = draft.decide(decision, cmd.version, quorum)
    await ctx.uow.drafts.save(draft)  # refuses if another decision landed in between
    await ctx.audit(
        f"draft.{cmd.verdict.value}",
        target=draft.target,
        detail=f"draft #{draft.id} v{draft.version} {comment}".strip(),
    )
    if complete:
        schedule = await ctx.uow.schedules.activate(
            draft.target, draft.spec, draft.id, now, ctx.actor.principal.key
        )
        ctx.after_commit.extend(ctx.schedule_listeners)
        await ctx.audit(
            "schedule.activated",
            target=draft.target,
            detail=f"version {schedule.version} from draft #{draft.id}",
        )
    if complete or cmd.verdict is not Verdict.APPROVE:
        await _event(
            ctx,
            EventKind.DRAFT_DECIDED,
            draft,
            verdict=cmd.verdict.value,
            reviewer=ctx.actor.display_name,
            comment=comment,
        )
    _redraw_copies(ctx, draft)
    message = await _draft_view(draft, ctx)
    footer = ctx.t.t(
        f"draft.decided.{cmd.verdict.value}", name=ctx.actor.display_name, time=ctx.t.time(now)
    )
    return _with_footer(message, footer)


async def withdraw_draft(cmd: c.WithdrawDraft, ctx: Context) -> Message:
    draft = await _draft(cmd.draft_id, ctx)
    if draft.author != ctx.actor.principal:
        await require(ctx.uow, ctx.actor, Capability.MANAGE_EXPORTS, draft.target)
    draft.withdraw(ctx.clock.now())
    await ctx.uow.drafts.save(draft)
    await ctx.audit("draft.withdrawn", target=draft.target, detail=f"draft #{draft.id}")
    _redraw_copies(ctx, draft)
    return await _draft_view(draft, ctx)


def _redraw_copies(ctx: Context, draft: Draft) -> None:
    """Once committed, every card of the draft (where it was submitted, in the subscribed
    channels) is redrawn: a decision taken in one place shows in all of them."""
    ctx.after_commit.extend(
        functools.partial(listener, draft.id, ctx.pressed) for listener in ctx.draft_listeners
    )


async def expire_overdue_drafts(ctx: Context) -> list[int]:
    return await expire_drafts(ctx.uow, ctx.clock)


async def expire_drafts(uow: UnitOfWork, clock: Clock) -> list[int]:
    """Close drafts past their expiry (audited, and an event for the reviewers-to-be).

    Commands run it first, and the scheduler's leader every few seconds, so an expiry is
    announced on time even when nobody touches drafts."""
    now = clock.now()
    expired = []
    for draft in await uow.drafts.open_drafts():
        if draft.expire_if_due(now):
            await uow.drafts.save(draft)
            await uow.audit.append(
                audit_entry(
                    SYSTEM_ACTOR,
                    clock,
                    "draft.expired",
                    Outcome.OK,
                    draft.target,
                    detail=f"draft #{draft.id}",
                )
            )
            await uow.outbox.add(draft_event(EventKind.DRAFT_EXPIRED, draft, now))
            expired.append(draft.id)
    return expired


async def _draft(draft_id: int, ctx: Context) -> Draft:
    await expire_overdue_drafts(ctx)
    draft = await ctx.uow.drafts.get(draft_id)
    if draft is None:
        raise NotFound("error.draft_not_found", draft=draft_id)
    return draft


async def _authored_draft(draft_id: int, ctx: Context) -> Draft:
    draft = await _draft(draft_id, ctx)
    await require(ctx.uow, ctx.actor, Capability.DRAFT, draft.target)
    if draft.author != ctx.actor.principal:
        raise PermissionDenied("error.not_your_draft", draft=draft.id, author=draft.author_name)
    return draft


async def _draft_view(draft: Draft, ctx: Context) -> Message:
    quorum = ctx.target(draft.target).approvals_required
    return await draft_view(ctx.uow, ctx.t, draft, quorum, ctx.clock.now(), ctx.pages)


async def draft_view(
    uow: UnitOfWork,
    t: Translator,
    draft: Draft,
    quorum: int,
    now: datetime,
    pages: PageLinks | None = None,
) -> Message:
    """A draft's card as it reads now: its diff against the active schedule, what its
    retention would prune, and with `pages` a signed link to its review page (F3)."""
    active = await uow.schedules.active(draft.target)
    if draft.state is DraftState.APPROVED:
        doomed = []  # the retention is now active; its pruning happens after the next run
    else:
        doomed = prune_candidates(
            list(await uow.archives.kept(draft.target)), draft.spec.retention, now
        )
    message = draft_message(t, draft, active, doomed, quorum, now)
    if pages is None:
        return message
    link = Field(t.t("field.review_page"), pages.review(draft.id, t.locale, now))
    return replace(message, fields=(*message.fields, link))


async def _event(ctx: Context, kind: EventKind, draft: Draft, **extra: str) -> None:
    await ctx.uow.outbox.add(draft_event(kind, draft, ctx.clock.now(), **extra))


def draft_event(kind: EventKind, draft: Draft, at: datetime, **extra: str) -> OutboxEvent:
    payload = {
        "draft": draft.id,
        "version": draft.version,
        "state": draft.state.value,
        "author": draft.author_name,
        **extra,
    }
    return OutboxEvent(kind, draft.target, at, payload)


def _with_footer(message: Message, footer: str) -> Message:
    return replace(message, footer=footer)


async def show_prune_preview(cmd: c.ShowPrunePreview, ctx: Context) -> Message:
    spec = ctx.target(cmd.target)
    await require(ctx.uow, ctx.actor, Capability.VIEW, spec.name)
    t = ctx.t
    active = await ctx.uow.schedules.active(spec.name)
    if active is None:
        text = t.t("prune.no_schedule", target=spec.name)
    else:
        kept = list(await ctx.uow.archives.kept(spec.name))
        text = prune_text(t, prune_candidates(kept, active.spec.retention, ctx.clock.now()))
    return Message(
        title=t.t("prune.title", target=spec.name),
        sections=(text,),
        summary=text,
        ephemeral=True,
    )


HANDLERS: dict[type[c.Command], Handler] = {
    c.ShowPrunePreview: show_prune_preview,
    c.ShowSchedule: show_schedule,
    c.DraftSchedule: draft_schedule,
    c.ListDrafts: list_drafts,
    c.SubmitDraft: submit_draft,
    c.ReviewDraft: review_draft,
    c.WithdrawDraft: withdraw_draft,
}
