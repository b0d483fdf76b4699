"""The bot's Teams endpoint in-process for a test: settings on a temporary SQLite database, and an
HTTP client to post activities to `/api/messages` (the connector it answers is the stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BOT_KEY, create_app
from bot.config import Settings
from tests.adapters.bot_harness import configured_people_have_seen_the_tour
from tests.adapters.teams_standin import TENANT
from tests.clients import corpus

ALICE = "aad-alice"  # the admin of every Teams test bot
QUICK_TARGET = {"name": "demo", "kind": "command", "command": ["true"]}


def teams_settings(tmp_path: Path, **extra: Any) -> Settings:
    """Alice admin, no scheduler; `extra` adds targets, grants and the rest."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"teams:{TENANT}:{ALICE}"],
        scheduler=False,
        **extra,
    )


@asynccontextmanager
async def teams_client(
    settings: Settings,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The app on a loopback port; its answers join the payload corpus when one is asked for."""
    server = TestServer(corpus.tap(create_app(settings)), host="127.0.0.1")
    async with server, TestClient(server) as client:
        await configured_people_have_seen_the_tour(client.app[BOT_KEY])
        yield client
