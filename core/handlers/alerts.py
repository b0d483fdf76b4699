"""`alerts pending`, `alerts failed`, `alerts retry` (C1): the outbox seen by a manager."""

from __future__ import annotations

from core.commands import model as c
from core.delivery.model import DeliveryState
from core.domain.authorization import has_capability
from core.domain.capabilities import Capability
from core.errors import NotFound, PermissionDenied
from core.handlers.context import Context, Handler
from core.safety.redaction import redact
from core.views.message import Message, Tone


async def _require_manager(ctx: Context) -> None:
    """The alert pipeline spans every target: it takes `manage exports` on all of them."""
    if not await has_capability(ctx.uow, ctx.actor.principal, Capability.MANAGE_EXPORTS):
        raise PermissionDenied(capability=Capability.MANAGE_EXPORTS.value, target="")


async def list_pending_events(cmd: c.ListPendingEvents, ctx: Context) -> Message:
    await _require_manager(ctx)
    events = await ctx.uow.outbox.pending(limit=50)
    t = ctx.t
    lines = [
        t.t(
            "alerts.line",
            id=e.id,
            kind=e.kind.value,
            target=e.target,
            time=t.time(e.created_at),
            detail=", ".join(f"{k}={v}" for k, v in e.payload.items() if v not in (None, "")),
        )
        for e in events
    ]
    return Message(
        title=t.t("alerts.pending_title"),
        sections=("\n".join(lines) or t.t("alerts.none"),),
        summary=t.t("alerts.summary", count=len(events)),
    )


async def list_failed_deliveries(cmd: c.ListFailedDeliveries, ctx: Context) -> Message:
    await _require_manager(ctx)
    dead = await ctx.uow.deliveries.in_state(DeliveryState.DEAD, limit=50)
    t = ctx.t
    lines = [
        t.t(
            "alerts.failed_line",
            id=d.id,
            event=d.event_id,
            destination=d.destination.key,
            attempts=d.attempts,
            error=redact(d.last_error),
        )
        for d in dead
    ]
    body = "\n".join(lines) or t.t("alerts.no_failed")
    return Message(
        title=t.t("alerts.failed_title"),
        sections=(body, t.t("alerts.failed_hint", prefix=ctx.prefix)) if dead else (body,),
        summary=t.t("alerts.failed_summary", count=len(dead)),
    )


async def retry_delivery(cmd: c.RetryDelivery, ctx: Context) -> Message:
    await _require_manager(ctx)
    if not await ctx.uow.deliveries.revive(cmd.delivery_id, ctx.clock.now()):
        raise NotFound("error.delivery_not_dead", delivery=cmd.delivery_id)
    await ctx.audit("delivery.retried", detail=f"delivery {cmd.delivery_id}")
    text = ctx.t.t("alerts.retried", delivery=cmd.delivery_id)
    return Message(
        title=text, status=ctx.t.t("alerts.retried_status"), tone=Tone.SUCCESS, summary=text
    )


HANDLERS: dict[type[c.Command], Handler] = {
    c.ListPendingEvents: list_pending_events,
    c.ListFailedDeliveries: list_failed_deliveries,
    c.RetryDelivery: retry_delivery,
}
