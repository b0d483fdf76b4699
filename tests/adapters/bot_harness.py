"""What every platform's harness has: the whole app under a test client, its loopback
stand-in, and the bot's database, read directly — including waiting for what the bot writes
on its own (the dispatcher, job listeners)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, Generic, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import BOT_KEY
from bot.bootstrap import Bot
from core.domain.model import Principal

S = TypeVar("S")  # the platform's stand-in


async def configured_people_have_seen_the_tour(bot: Bot) -> None:
    """Harness set-up: the people a test bot's settings name (its admins and grants) count as
    having had the guided tour offered (D1), so its offer never follows their first command
    and the tests about them read each answer as it comes. The tour's own tests use someone
    the settings do not name (a newcomer)."""
    principals = [*bot.settings.admins, *(grant.principal for grant in bot.settings.grants)]
    async with bot.uow_factory() as uow:
        for principal in principals:
            await uow.tours.offer(Principal.parse(principal), bot.clock.now())
        await uow.commit()


class BotHarness(Generic[S]):
    def __init__(
        self, client: TestClient[web.Request, web.Application], standin: S, db_path: Path
    ) -> None:
        self.client = client
        self.standin = standin
        self.db_path = db_path

    @property
    def bot(self) -> Bot:
        return self.client.app[BOT_KEY]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as db:
            return db.execute(sql).fetchall()

    async def eventually(
        self, sql: str, expected: list[tuple[Any, ...]], *, seconds: float = 5
    ) -> None:
        """Wait until a query gives `expected`: the dispatcher works on its own."""
        try:
            async with asyncio.timeout(seconds):
                while self.rows(sql) != expected:  # noqa: ASYNC110 - polling another writer
                    await asyncio.sleep(0.05)
        except TimeoutError:
            assert self.rows(sql) == expected  # shows the difference
