"""Reading the database of a bot under test (a harness's), including waiting for what the
bot writes on its own (the dispatcher, job listeners)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any


class BotDatabase:
    db_path: Path

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
