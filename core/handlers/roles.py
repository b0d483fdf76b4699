"""`role grant`, `role revoke`, `role list` (B2): who may do what."""

from __future__ import annotations

from core.commands import model as c
from core.domain.authorization import has_capability, require, resolve_principal
from core.domain.capabilities import Capability, Role
from core.domain.model import Grant
from core.errors import Conflict, NotFound, PermissionDenied
from core.handlers.context import Context, Handler
from core.views.jobs import grant_line
from core.views.message import Message, Tone


async def grant_role(cmd: c.GrantRole, ctx: Context) -> Message:
    target = ctx.target(cmd.target).name if cmd.target else None
    await require(ctx.uow, ctx.actor, Capability.MANAGE_ROLES, target)
    principal = resolve_principal(cmd.who, ctx.actor)
    scope = target or ctx.t.t("role.all_targets")
    if await ctx.uow.grants.find(principal, cmd.role, target) is not None:
        return Message(
            title=ctx.t.t("role.already", who=principal.key, role=cmd.role.value, scope=scope),
            summary=ctx.t.t("role.already", who=principal.key, role=cmd.role.value, scope=scope),
        )
    await ctx.uow.grants.add(
        Grant(principal, cmd.role, target, ctx.actor.principal.key, ctx.clock.now())
    )
    await ctx.audit("role.grant", target=target, detail=f"{principal.key} {cmd.role.value}")
    text = ctx.t.t("role.granted", who=principal.key, role=cmd.role.value, scope=scope)
    return Message(
        title=text, status=ctx.t.t("role.status_granted"), tone=Tone.SUCCESS, summary=text
    )


async def revoke_role(cmd: c.RevokeRole, ctx: Context) -> Message:
    target = ctx.target(cmd.target).name if cmd.target else None
    await require(ctx.uow, ctx.actor, Capability.MANAGE_ROLES, target)
    principal = resolve_principal(cmd.who, ctx.actor)
    scope = target or ctx.t.t("role.all_targets")
    grant = await ctx.uow.grants.find(principal, cmd.role, target)
    if grant is None:
        raise NotFound("error.grant_not_found", who=principal.key, role=cmd.role.value, scope=scope)
    if grant.from_configuration:
        raise Conflict("error.grant_from_config", who=principal.key, role=cmd.role.value)
    if cmd.role is Role.ADMIN and target is None:
        # Admins of a workspace the bot does not serve could never use their right.
        holders = await ctx.uow.grants.global_holders(Role.ADMIN, for_change=True)
        if not any(p != principal and ctx.serves(p) for p in holders):
            raise Conflict("error.last_admin", who=principal.key)
    await ctx.uow.grants.remove(principal, cmd.role, target)
    await ctx.audit("role.revoke", target=target, detail=f"{principal.key} {cmd.role.value}")
    text = ctx.t.t("role.revoked", who=principal.key, role=cmd.role.value, scope=scope)
    return Message(
        title=text, status=ctx.t.t("role.status_revoked"), tone=Tone.SUCCESS, summary=text
    )


async def list_roles(cmd: c.ListRoles, ctx: Context) -> Message:
    t = ctx.t
    is_manager = await has_capability(ctx.uow, ctx.actor.principal, Capability.MANAGE_ROLES)
    if cmd.who is None:
        if is_manager:
            grants = list(await ctx.uow.grants.all())
            title = t.t("role.list_all")
        else:
            grants = list(await ctx.uow.grants.for_principal(ctx.actor.principal))
            title = t.t("role.list_for", who=ctx.actor.principal.key)
    else:
        principal = resolve_principal(cmd.who, ctx.actor)
        if principal != ctx.actor.principal and not is_manager:
            raise PermissionDenied(capability=Capability.MANAGE_ROLES.value, target="")
        grants = list(await ctx.uow.grants.for_principal(principal))
        title = t.t("role.list_for", who=principal.key)
    body = "\n".join(grant_line(t, g) for g in grants) or t.t("role.none", prefix=ctx.prefix)
    return Message(title=title, sections=(body,), summary=t.t("role.summary", count=len(grants)))


HANDLERS: dict[type[c.Command], Handler] = {
    c.GrantRole: grant_role,
    c.RevokeRole: revoke_role,
    c.ListRoles: list_roles,
}
