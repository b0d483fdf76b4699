"""Shutdown waits for the Teams turns in flight before the database closes.

A turn reads and writes the database (the command, its audit line, the conversation it
remembers). Closed under it, its aiosqlite connection was never closed, and the
ResourceWarning failed whichever later test the garbage collector ran in.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event

from bot.app import BOT_KEY, create_app
from core.app.service import CommandService
from tests.adapters.bot_harness import configured_people_have_seen_the_tour
from tests.adapters.teams_harness import teams_settings
from tests.adapters.teams_standin import ConnectorStandIn, message


async def test_shutdown_waits_for_a_turn_in_flight_before_the_database_closes(
    tmp_path: Path, connector: ConnectorStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    happened: list[str] = []
    in_turn, go_on = asyncio.Event(), asyncio.Event()
    server = TestServer(create_app(teams_settings(tmp_path)), host="127.0.0.1")
    async with server, TestClient(server) as client:
        bot = client.app[BOT_KEY]
        await configured_people_have_seen_the_tour(bot)
        service: CommandService = bot.service
        execute_text = service.execute_text

        async def slow_command(*args: Any, **kwargs: Any) -> Any:
            in_turn.set()
            await go_on.wait()  # the turn is in the handler when shutdown begins
            try:
                return await execute_text(*args, **kwargs)  # then it uses the database
            finally:
                happened.append("turn done")

        def disposed(_: object) -> None:
            happened.append("database closed")

        monkeypatch.setattr(service, "execute_text", slow_command)
        event.listen(bot.engine.sync_engine, "engine_disposed", disposed)
        posting = asyncio.create_task(
            client.post("/api/messages", json=message("status", service_url=connector.service_url))
        )
        async with asyncio.timeout(10):
            await in_turn.wait()
        # Leaving closes the client (the server cancels the request's handler) and then the
        # app; the turn may go on only after shutdown has begun.
        asyncio.get_running_loop().call_later(0.3, go_on.set)
    await asyncio.gather(posting, return_exceptions=True)
    assert happened == ["turn done", "database closed"]
    assert len(connector.activities()) == 1  # and its answer was still sent
