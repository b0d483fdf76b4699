"""The last-admin rule under real concurrency (B2): two admins revoking each other at the
same moment, each in a unit of work on its own connection, leave exactly one admin."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.capabilities import Role
from core.domain.model import Actor, Grant, Principal
from core.jobs.runners.base import Progress
from storage import SqlUnitOfWorkFactory

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ANN, BEN = Principal("console", "", "ann"), Principal("console", "", "ben")


class NoJobs:
    def launch(self, job_id: int) -> None: ...

    def request_cancel(self, job_id: int) -> bool:
        return False

    def progress_of(self, job_id: int) -> Progress | None:
        return None


def _actor(principal: Principal) -> Actor:
    return Actor(principal, principal.user_id, channel="console")


async def _admins(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT principal FROM grants WHERE role = 'admin' AND scope = ''")
        )
        return sorted(str(row[0]) for row in rows)


async def test_two_admins_revoking_each_other_at_once_leave_one_admin(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    service = CommandService(uow_factory, {}, FrozenClock(T0), NoJobs(), platforms=PLATFORMS)
    for _ in range(20):
        async with uow_factory() as uow:
            for who in (ANN, BEN):
                if await uow.grants.find(who, Role.ADMIN, None) is None:
                    await uow.grants.add(Grant(who, Role.ADMIN, None, "console:root", T0))
            await uow.commit()
        replies = await asyncio.gather(
            service.execute_text("role revoke console:ben admin", _actor(ANN)),
            service.execute_text("role revoke console:ann admin", _actor(BEN)),
        )
        # The second sees the first's change: it is the last admin, or no longer one.
        outcomes = sorted(r.error_key for r in replies)
        assert outcomes[0] == "" and outcomes[1] in ("error.last_admin", "error.permission")
        assert len(await _admins(engine)) == 1
