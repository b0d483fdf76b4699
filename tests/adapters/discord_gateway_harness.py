"""The whole bot with Discord's gateway mode on (`DISCORD_GATEWAY=true`), against the REST and
gateway stand-ins: what people type in a thread arrives as the gateway's MESSAGE_CREATE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.adapters.discord_gateway_standin import GatewayStandIn, message_create
from tests.adapters.discord_harness import DiscordHarness, discord_harness
from tests.adapters.discord_standin import (
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    WAIT,
    DiscordStandIn,
    Json,
    _now_iso,
    bot_user,
    slash_command,
    snowflake,
    user_object,
)

QUICK = {"name": "quick", "kind": "command", "command": ["true"]}
MENTION = f"<@{BOT_USER_ID}>"


class GatewayHarness(DiscordHarness):
    @property
    def gateway(self) -> GatewayStandIn:
        return self.standin.gateway_standin

    async def run_job(self, target: str = "quick") -> str:
        """Run `target` from `/export run`; the id of its message, which is its thread's id
        once the bot has told the job's end there."""
        status, _ = await self.send(slash_command("run", {"target": target}))
        assert status == 200
        await self.settle()
        [(message_id,)] = self.rows(
            "SELECT message_id FROM posted_messages WHERE kind = 'job' ORDER BY job_id DESC LIMIT 1"
        )
        assert str(message_id) in self.standin.threads  # the end was told in its thread
        return str(message_id)

    async def say(
        self,
        content: str,
        *,
        person: str = "carol",
        channel_id: str = CHANNEL_ID,
        mention: bool = True,
        author: Json | None = None,
        referenced: Json | None = None,
        **extra: Any,
    ) -> Json:
        """`person` writes `content` in `channel_id` (a thread's id is its channel id);
        Discord sends it to the bot's gateway connection."""
        said = message_create(
            content,
            author=author or user_object(person),
            channel_id=channel_id,
            guild_id=GUILD_ID,
            mentions=[bot_user()] if mention else [],
            message_id=snowflake(),
            timestamp=_now_iso(),
            referenced=referenced,
        )
        said.update(extra)  # any other field of the message (`webhook_id`, …)
        await self.gateway.dispatch("MESSAGE_CREATE", said)
        return said

    def posted_in(self, channel: str) -> list[str]:
        """What the bot posted in `channel` (a thread's id is its channel id), as text."""
        return [
            str(r.json)
            for r in self.standin.requests_to("POST /channels/{channel_id}/messages")
            if r.params["channel_id"] == channel and r.status == 200
        ]

    async def posts_in(self, channel: str, count: int) -> list[str]:
        """Wait until the bot has posted `count` messages in `channel`; what it posted."""
        async with asyncio.timeout(WAIT), self.standin.changed:
            await self.standin.changed.wait_for(lambda: len(self.posted_in(channel)) >= count)
        return self.posted_in(channel)

    def notes(self) -> list[tuple[Any, ...]]:
        return self.rows("SELECT job_id, author, text, link FROM annotations ORDER BY id")

    async def note_count(self, count: int) -> list[tuple[Any, ...]]:
        """Wait until `count` notes are saved; then they are."""
        await self.eventually("SELECT count(*) FROM annotations", [(count,)])
        await self.settle()
        return self.notes()


@asynccontextmanager
async def gateway_harness(
    tmp_path: Path, standin: DiscordStandIn, **extra: Any
) -> AsyncIterator[GatewayHarness]:
    settings = {"targets": [QUICK], "discord_gateway": True, **extra}
    async with discord_harness(tmp_path, standin, **settings) as harness:
        gateway = GatewayHarness(harness.client, standin, tmp_path / "bot.db")
        await gateway.gateway.wait_identified()
        yield gateway
