"""The whole bot app with Slack enabled, against the loopback Slack stand-in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackAdapter
from bot.app import SLACK_KEY, create_app
from bot.config import Settings
from tests.adapters.bot_harness import BotHarness, configured_people_have_seen_the_tour
from tests.adapters.slack_standin import TEAM, SlackStandIn, signed
from tests.clients import corpus

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN = "U0ADMIN"
REVIEWER = "U0CAROL"
VIEWER = "U0VERA"


class SlackHarness(BotHarness[SlackStandIn]):
    @property
    def slack(self) -> SlackAdapter:
        return self.client.app[SLACK_KEY]

    async def post(
        self,
        body: str,
        *,
        json_body: bool = False,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, Any]:
        content_type = "application/json" if json_body else "application/x-www-form-urlencoded"
        sent = {**signed(SECRET, body, timestamp, content_type), **(headers or {})}
        response = await self.client.post("/slack/events", data=body, headers=sent)
        text = await response.text()
        try:
            payload: Any = json.loads(text) if text else None
        except ValueError:
            payload = text
        return response.status, payload

    async def settle(self) -> None:
        """Let background answers and running jobs finish."""
        # A background answer may start a job, and a job's end may answer in the background.
        await self.slack.runtime.drain()
        await self.bot.executor.idle()
        await self.slack.runtime.drain()
        await self.bot.exports.idle()  # an `audit` export shows its end on its own
        await self.bot.previews.idle()  # and so does an `exclude` preview
        await self.bot.audit_writer.flush()


def harness_settings(tmp_path: Path, standin: SlackStandIn, **extra: Any) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"slack:{TEAM}:{ADMIN}"],
        # Settings validates each dict into a GrantConfig, as it does a configuration file's.
        grants=[
            {"principal": f"slack:{TEAM}:{REVIEWER}", "role": "reviewer"},  # type: ignore[list-item]
            {"principal": f"slack:{TEAM}:{VIEWER}", "role": "viewer"},  # type: ignore[list-item]
        ],
        slack_signing_secret=SECRET,  # type: ignore[arg-type]
        slack_bot_token="xoxb-test",  # type: ignore[arg-type]
        slack_api_url=standin.api_url,
        scheduler=False,
        **extra,
    )


@asynccontextmanager
async def slack_harness(
    tmp_path: Path, standin: SlackStandIn, **extra: Any
) -> AsyncIterator[SlackHarness]:
    app = corpus.tap(create_app(harness_settings(tmp_path, standin, **extra)))
    server = TestServer(app, host="127.0.0.1")
    async with server, TestClient(server) as client:
        harness = SlackHarness(client, standin, tmp_path / "bot.db")
        await configured_people_have_seen_the_tour(harness.bot)
        try:
            yield harness
        finally:
            await harness.settle()
