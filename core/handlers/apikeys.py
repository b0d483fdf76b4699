"""`apikey list`, `apikey revoke` (#16): admins see and revoke the job-event API's keys.

A key can report jobs, so it is an admin's business like a role: `manage roles` on every
target. Creating one prints its secret, which a chat would keep: that is the CLI's alone.
"""

from __future__ import annotations

from core.commands import model as c
from core.domain.authorization import has_capability
from core.domain.capabilities import Capability
from core.errors import NotFound, PermissionDenied
from core.handlers.context import Context, Handler
from core.safety.text import cut
from core.views.message import Message, Tone


async def _require_admin(ctx: Context) -> None:
    if not await has_capability(ctx.uow, ctx.actor.principal, Capability.MANAGE_ROLES):
        raise PermissionDenied(capability=Capability.MANAGE_ROLES.value, target="")


async def list_api_keys(cmd: c.ListApiKeys, ctx: Context) -> Message:
    await _require_admin(ctx)
    t = ctx.t
    keys = await ctx.uow.api_keys.all()
    lines = [
        t.t(
            "apikey.line_revoked" if key.revoked else "apikey.line",
            name=key.name,
            targets=", ".join(key.targets) or t.t("apikey.all_targets"),
            created=t.time(key.created_at),
            used=t.time(key.last_used_at) if key.last_used_at else t.t("apikey.never"),
        )
        for key in keys
    ]
    await ctx.audit("apikey.list", detail=f"{len(keys)} keys")
    return Message(
        title=t.t("apikey.list_title"),
        sections=("\n".join(lines) or t.t("apikey.none"),),
        summary=t.t("apikey.summary", count=len(keys)),
    )


async def revoke_api_key(cmd: c.RevokeApiKey, ctx: Context) -> Message:
    await _require_admin(ctx)
    name = cut(cmd.name, 64)
    if not await ctx.uow.api_keys.revoke(name, ctx.clock.now()):
        raise NotFound("error.apikey_not_found", name=name)
    await ctx.audit("apikey.revoke", detail=name)
    text = ctx.t.t("apikey.revoked", name=name)
    return Message(
        title=text, status=ctx.t.t("apikey.revoked_status"), tone=Tone.SUCCESS, summary=text
    )


HANDLERS: dict[type[c.Command], Handler] = {
    c.ListApiKeys: list_api_keys,
    c.RevokeApiKey: revoke_api_key,
}
