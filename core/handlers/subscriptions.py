"""`subscribe`, `unsubscribe`, `subscriptions` (C1): which alerts this channel receives."""

from __future__ import annotations

from dataclasses import replace

from core.commands import model as c
from core.delivery.webhooks import (
    WEBHOOK_PLATFORM,
    Webhook,
    checked_url,
    detect_format,
    parse_format,
    shown_url,
)
from core.domain.authorization import require, visible_targets
from core.domain.capabilities import Capability
from core.domain.subscriptions import EVERY_TARGET, Destination, Severity, Subscription, ordered
from core.errors import NotFound, PermissionDenied
from core.handlers.context import Context, Handler
from core.i18n import Translator
from core.views.message import Message, Tone


def destination_of(ctx: Context) -> Destination:
    actor = ctx.actor
    return Destination(actor.platform, actor.workspace, actor.channel or actor.platform)


async def _webhook_destination(
    ctx: Context, url: str, fmt: str | None, *, create: bool
) -> tuple[Destination, str]:
    """A webhook's destination and how replies name it (never the whole URL: it is a secret)."""
    url = checked_url(url, allow_private=ctx.webhook_allow_private)
    webhook = await ctx.uow.webhooks.by_url(url)
    if webhook is None:
        if not create:
            raise NotFound("error.webhook_not_found", webhook=shown_url(url))
        made = Webhook(
            parse_format(fmt) if fmt else detect_format(url),
            url,
            ctx.actor.principal.key,
            ctx.clock.now(),
        )
        webhook = await ctx.uow.webhooks.add(made)
    assert webhook.id is not None
    where = webhook.destination
    return where, ctx.t.t("webhook.name", url=webhook.shown, format=webhook.format.value)


async def _place(
    ctx: Context, webhook: str | None, fmt: str | None = None, *, create: bool = False
) -> tuple[Destination, str]:
    """Where a subscription sends: this channel, or the webhook given; and its name."""
    if webhook is None:
        return destination_of(ctx), ctx.t.t("subscribe.this_channel")
    return await _webhook_destination(ctx, webhook, fmt, create=create)


async def _checked_target(target: str, ctx: Context) -> str:
    """`*` needs `manage exports` everywhere; a target, on that target."""
    if target == EVERY_TARGET:
        await require(ctx.uow, ctx.actor, Capability.MANAGE_EXPORTS, None)
        return target
    name = ctx.target(target).name
    await require(ctx.uow, ctx.actor, Capability.MANAGE_EXPORTS, name)
    return name


async def subscribe(cmd: c.Subscribe, ctx: Context) -> Message:
    target = await _checked_target(cmd.target, ctx)
    where, name = await _place(ctx, cmd.webhook, cmd.webhook_format, create=True)
    current = await ctx.uow.subscriptions.get(where, target)
    kinds = cmd.kinds | (current.kinds if current else frozenset())
    severity = cmd.min_severity or (current.min_severity if current else Severity.INFO)
    saved = await ctx.uow.subscriptions.save(
        Subscription(where, target, kinds, severity, ctx.actor.principal.key, ctx.clock.now())
    )
    await ctx.audit(
        "subscription.saved",
        target=None if target == EVERY_TARGET else target,
        detail=f"{where.key} {target} {','.join(ordered(saved.kinds))} ≥{severity.value}",
    )
    text = ctx.t.t("subscribe.done", place=name, **_describe(ctx.t, saved))
    return Message(title=ctx.t.t("subscribe.title"), status=text, tone=Tone.SUCCESS, summary=text)


async def unsubscribe(cmd: c.Unsubscribe, ctx: Context) -> Message:
    target = await _checked_target(cmd.target, ctx)
    where, name = await _place(ctx, cmd.webhook)
    current = await ctx.uow.subscriptions.get(where, target)
    if current is None:
        raise NotFound("error.subscription_not_found", place=name, target=_scope(ctx.t, target))
    left = current.kinds - cmd.kinds if cmd.kinds is not None else frozenset()
    if left:
        saved = await ctx.uow.subscriptions.save(
            replace(current, kinds=left, updated_at=ctx.clock.now())
        )
        text = ctx.t.t("subscribe.done", place=name, **_describe(ctx.t, saved))
    else:
        await ctx.uow.subscriptions.remove(where, target)
        text = ctx.t.t("unsubscribe.done", place=name, target=_scope(ctx.t, target))
    await ctx.audit(
        "subscription.removed",
        target=None if target == EVERY_TARGET else target,
        detail=f"{where.key} {target} {','.join(ordered(left)) or '—'}",
    )
    return Message(title=ctx.t.t("subscribe.title"), status=text, tone=Tone.SUCCESS, summary=text)


async def list_subscriptions(cmd: c.ListSubscriptions, ctx: Context) -> Message:
    if not await visible_targets(ctx.uow, ctx.actor.principal, list(ctx.targets)):
        raise PermissionDenied(capability=Capability.VIEW.value, target="")
    if cmd.webhooks:
        subscriptions = await ctx.uow.subscriptions.for_platform(WEBHOOK_PLATFORM)
        lines = []
        for s in subscriptions:
            webhook = await ctx.uow.webhooks.get(int(s.destination.channel))
            shown = webhook.shown if webhook else "?"
            name = ctx.t.t("webhook.name", url=shown, format=s.destination.workspace)
            lines.append(f"{name} — " + ctx.t.t("subscriptions.line", **_describe(ctx.t, s)))
        title, none = "subscriptions.webhooks_title", "subscriptions.no_webhooks"
    else:
        subscriptions = await ctx.uow.subscriptions.for_destination(destination_of(ctx))
        lines = [ctx.t.t("subscriptions.line", **_describe(ctx.t, s)) for s in subscriptions]
        title, none = "subscriptions.title", "subscriptions.none"
    body = "\n".join(lines) or ctx.t.t(none, prefix=ctx.prefix)
    return Message(
        title=ctx.t.t(title),
        sections=(body,),
        summary=ctx.t.t("subscriptions.summary", count=len(subscriptions)),
    )


def _scope(t: Translator, target: str) -> str:
    return t.t("subscriptions.every_target") if target == EVERY_TARGET else target


def _describe(t: Translator, subscription: Subscription) -> dict[str, str]:
    return {
        "target": _scope(t, subscription.target),
        "kinds": ", ".join(t.t(f"alert.kind.{k.value}") for k in ordered(subscription.kinds)),
        "severity": t.t(f"severity.{subscription.min_severity.value}"),
    }


HANDLERS: dict[type[c.Command], Handler] = {
    c.Subscribe: subscribe,
    c.Unsubscribe: unsubscribe,
    c.ListSubscriptions: list_subscriptions,
}
