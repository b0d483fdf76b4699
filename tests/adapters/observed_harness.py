"""One app with Slack and Discord both enabled, against their stand-ins: what a scripted
session on both platforms leaves in /metrics and in the log (tests/adapters/test_metrics.py,
tests/adapters/test_structured_logs.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from discord.http import Route

from bot.app import create_app
from bot.config import Settings
from tests.adapters.discord_harness import ALICE_ID, PUBLIC_KEY, DiscordHarness
from tests.adapters.discord_standin import APP_ID, BOT_TOKEN, GUILD_ID, DiscordStandIn
from tests.adapters.slack_harness import ADMIN, REVIEWER, SECRET, VIEWER, SlackHarness
from tests.adapters.slack_standin import TEAM, SlackStandIn


@dataclass
class Observed:
    slack: SlackHarness
    discord: DiscordHarness

    async def settle(self) -> None:
        await self.slack.settle()
        await self.discord.settle()


def observed_settings(
    tmp_path: Path, slack: SlackStandIn, discord: DiscordStandIn, **extra: Any
) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"slack:{TEAM}:{ADMIN}", f"discord:{GUILD_ID}:{ALICE_ID}"],
        grants=[
            {"principal": f"slack:{TEAM}:{REVIEWER}", "role": "reviewer"},  # type: ignore[list-item]
            {"principal": f"slack:{TEAM}:{VIEWER}", "role": "viewer"},  # type: ignore[list-item]
        ],
        slack_signing_secret=SECRET,  # type: ignore[arg-type]
        slack_bot_token="xoxb-test",  # type: ignore[arg-type]
        slack_api_url=slack.api_url,
        discord_public_key=PUBLIC_KEY,
        discord_bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        discord_application_id=APP_ID,
        discord_api_url=discord.api_base,
        **extra,
    )


@asynccontextmanager
async def observed_app(
    tmp_path: Path, slack: SlackStandIn, discord: DiscordStandIn, **extra: Any
) -> AsyncIterator[Observed]:
    base = Route.BASE  # a class attribute: put it back for whatever runs next
    app = create_app(observed_settings(tmp_path, slack, discord, **extra))
    server = TestServer(app, host="127.0.0.1")
    try:
        async with server, TestClient(server) as client:
            db = tmp_path / "bot.db"
            observed = Observed(
                SlackHarness(client, slack, db), DiscordHarness(client, discord, db)
            )
            try:
                yield observed
            finally:
                await observed.settle()
    finally:
        Route.BASE = base
