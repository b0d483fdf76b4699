"""Permission checks (B2, G2). Only the core decides; adapters never do."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.domain.capabilities import ROLE_CAPABILITIES, Capability
from core.domain.model import Actor, Grant, Principal
from core.errors import PermissionDenied
from core.ports import UnitOfWork

# `<@U0456>` on Slack, `<@123>` or `<@!123>` on Discord.
_MENTION = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|[^>]*)?>")


def grants_allow(grants: Sequence[Grant], capability: Capability, target: str | None) -> bool:
    """True when one grant gives `capability` globally or for `target`.

    A target-scoped grant never satisfies a check that names no target.
    """
    for grant in grants:
        if capability not in ROLE_CAPABILITIES[grant.role]:
            continue
        if grant.target is None or (target is not None and grant.target == target):
            return True
    return False


async def has_capability(
    uow: UnitOfWork, principal: Principal, capability: Capability, target: str | None = None
) -> bool:
    return grants_allow(await uow.grants.for_principal(principal), capability, target)


async def require(
    uow: UnitOfWork, actor: Actor, capability: Capability, target: str | None = None
) -> None:
    """Raise PermissionDenied naming the capability (and target) the actor lacks."""
    if not await has_capability(uow, actor.principal, capability, target):
        raise PermissionDenied(capability=capability.value, target=target or "")


async def visible_targets(
    uow: UnitOfWork, principal: Principal, targets: Sequence[str]
) -> list[str]:
    """The targets `principal` may view, in configuration order."""
    grants = await uow.grants.for_principal(principal)
    return [name for name in targets if grants_allow(grants, Capability.VIEW, name)]


def resolve_principal(reference: str, actor: Actor) -> Principal:
    """A user named in a command, in the speaker's own workspace unless a full key is given.

    `<@U0456>` and bare names stay in the actor's platform and workspace, so a mention can
    never reach into another workspace; `slack:T1:U2` names one explicitly.
    """
    mention = _MENTION.fullmatch(reference)
    if mention:
        return Principal(actor.platform, actor.workspace, mention.group(1))
    if ":" in reference:
        return Principal.parse(reference)
    return Principal(actor.platform, actor.workspace, reference)
