"""Creating, listing and revoking API keys (the CLI's `api-key`, the chat's `apikey`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.api.keys import ApiKey, fingerprint, new_nonce, printed_key, valid_name
from core.domain.audit import audit_entry
from core.domain.model import Actor, Outcome
from core.ports import Clock, UnitOfWorkFactory


@dataclass
class KeyRefused(Exception):
    """A key that cannot be created as asked (bad or taken name); nothing was written."""

    reason: str


async def create_key(
    uow_factory: UnitOfWorkFactory,
    master: bytes,
    clock: Clock,
    actor: Actor,
    name: str,
    targets: Sequence[str] = (),
    *,
    may_create: bool = False,
) -> str:
    """Store a new key and return its printed form `N.<secret>`: the only time it is seen."""
    if not valid_name(name):
        raise KeyRefused(
            f"{name[:70]!r} is not a key name: letters, digits, '.', '_' or '-', at most 64"
        )
    nonce = new_nonce()
    printed = printed_key(master, name, nonce)
    now: datetime = clock.now()
    key = ApiKey(
        name, nonce, fingerprint(printed), now, actor.principal.key, tuple(targets), may_create
    )
    async with uow_factory() as uow:
        if not await uow.api_keys.add(key):
            raise KeyRefused(f"a key named {name} exists (names are never reused)")
        scope = ", ".join(targets) or "every target"
        detail = f"{name} for {scope}" + (", may create reported targets" if may_create else "")
        await uow.audit.append(
            audit_entry(actor, clock, "apikey.create", Outcome.OK, None, None, detail)
        )
        await uow.commit()
    return printed


async def revoke_key(uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, name: str) -> bool:
    """False when there is no such key, or it was already revoked (nothing written then)."""
    async with uow_factory() as uow:
        if not await uow.api_keys.revoke(name, clock.now()):
            return False
        await uow.audit.append(
            audit_entry(actor, clock, "apikey.revoke", Outcome.OK, None, None, name)
        )
        await uow.commit()
    return True


async def list_keys(uow_factory: UnitOfWorkFactory) -> Sequence[ApiKey]:
    async with uow_factory(read_only=True) as uow:
        return await uow.api_keys.all()
