"""The whole bot app with Discord enabled, against the loopback Discord stand-in: signed
interactions in, and each HTTP answer handed to the stand-in as Discord would act on it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from discord.gateway import DiscordWebSocket
from discord.http import Route
from nacl.signing import SigningKey

from adapters.discord.adapter import DiscordAdapter
from bot.app import DISCORD_KEY, create_app
from bot.config import Settings
from tests.adapters.bot_harness import BotHarness, configured_people_have_seen_the_tour
from tests.adapters.discord_standin import (
    APP_ID,
    BOT_TOKEN,
    GUILD_ID,
    PEOPLE,
    DiscordStandIn,
    signed_interaction,
)
from tests.clients import corpus

SIGNING_KEY = SigningKey(bytes(range(32)))  # the test's own application key pair
PUBLIC_KEY = SIGNING_KEY.verify_key.encode().hex()
ALICE_ID, CAROL_ID = PEOPLE["alice"][0], PEOPLE["carol"][0]


class DiscordHarness(BotHarness[DiscordStandIn]):
    @property
    def discord(self) -> DiscordAdapter:
        return self.client.app[DISCORD_KEY]

    async def send(
        self, interaction: Mapping[str, Any], *, key: SigningKey = SIGNING_KEY, **sign: Any
    ) -> tuple[int, Any]:
        """Post `interaction` signed; Discord then acts on the answer (the stand-in does)."""
        body, headers = signed_interaction(key, interaction, **sign)
        return await self.post(body, headers, interaction)

    async def post(
        self, body: bytes, headers: Mapping[str, str], interaction: Mapping[str, Any]
    ) -> tuple[int, Any]:
        response = await self.client.post("/discord/interactions", data=body, headers=headers)
        text = await response.text()
        answer = json.loads(text) if text else None
        if response.status == 200 and isinstance(answer, dict):
            self.standin.deliver(interaction, answer)
        return response.status, answer

    async def settle(self) -> None:
        """Let follow-ups, running jobs and their listeners finish."""
        await self.discord.drain()
        await self.bot.executor.idle()
        await self.discord.drain()
        await self.bot.exports.idle()  # an `audit` export shows its end on its own
        await self.bot.previews.idle()  # and so does an `exclude` preview
        await self.bot.audit_writer.flush()


def harness_settings(tmp_path: Path, standin: DiscordStandIn, **extra: Any) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"discord:{GUILD_ID}:{ALICE_ID}"],
        grants=[{"principal": f"discord:{GUILD_ID}:{CAROL_ID}", "role": "reviewer"}],  # type: ignore[list-item]
        discord_public_key=PUBLIC_KEY,
        discord_bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        discord_application_id=APP_ID,
        discord_api_url=standin.api_base,
        scheduler=False,
        **extra,
    )


@asynccontextmanager
async def discord_harness(
    tmp_path: Path, standin: DiscordStandIn, **extra: Any
) -> AsyncIterator[DiscordHarness]:
    base = Route.BASE  # a class attribute: put it back for whatever runs next
    gateway = DiscordWebSocket.DEFAULT_GATEWAY  # the same, set in gateway mode
    app = corpus.tap(create_app(harness_settings(tmp_path, standin, **extra)))
    server = TestServer(app, host="127.0.0.1")
    try:
        async with server, TestClient(server) as client:
            harness = DiscordHarness(client, standin, tmp_path / "bot.db")
            await configured_people_have_seen_the_tour(harness.bot)
            try:
                yield harness
            finally:
                await harness.settle()
    finally:
        Route.BASE = base
        DiscordWebSocket.DEFAULT_GATEWAY = gateway
