"""Every scenario runs once per platform, through that platform's driver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from tests.scenarios import discord_chat, slack_chat, teams_chat
from tests.scenarios.chat import Chat

OpenChat = Callable[[Path], AbstractAsyncContextManager[Chat]]

PLATFORMS: dict[str, tuple[OpenChat, tuple[str, ...]]] = {
    "slack": (slack_chat.slack_chat, slack_chat.FORGERIES),
    "teams": (teams_chat.teams_chat, tuple(teams_chat.FORGERIES)),
    "discord": (discord_chat.discord_chat, discord_chat.FORGERIES),
}


@pytest.fixture(params=list(PLATFORMS))
async def chat(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Chat]:
    open_chat, _ = PLATFORMS[request.param]
    async with open_chat(tmp_path) as running:
        yield running
