"""The `/export` slash command over HTTP, through slack-bolt's `AsyncApp`.

Bolt verifies the signature (5-minute window) before any listener runs. The listener starts
the command at once and waits at most `ack_budget` seconds: a quick answer goes back in the
ack itself; a slow one is acknowledged with "working on it" and answered later through the
command's `response_url` (Bolt's default ack path polls every 10 ms; this one never waits
longer than the budget).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import render
from core.i18n import Translator
from core.messages import Message
from core.model import Actor, Principal
from core.service import CommandService

log = logging.getLogger(__name__)

COMMAND = "/export"
PREFIX = f"{COMMAND} "
ACK_BUDGET = 1.5  # seconds; Slack wants the ack within 3


def slash_actor(body: dict[str, Any]) -> Actor:
    """Principals are (slack, team id, user id): two workspaces' users never merge."""
    return Actor(
        Principal("slack", str(body.get("team_id", "")), str(body.get("user_id", ""))),
        str(body.get("user_name") or body.get("user_id", "")),
        "en",  # slash commands carry no locale; users.info would (later)
        channel=str(body.get("channel_id", "")),
    )


def slash_response(message: Message) -> dict[str, Any]:
    """Job messages are shown to the channel (their thread collects notes); the rest privately."""
    visible = message.job_id is not None and not message.ephemeral
    return {**render(message), "response_type": "in_channel" if visible else "ephemeral"}


class SlackCommands:
    def __init__(
        self,
        service: CommandService,
        *,
        signing_secret: str,
        token: str,
        api_url: str,
        ack_budget: float = ACK_BUDGET,
    ) -> None:
        self._service = service
        self._ack_budget = ack_budget
        self.client = AsyncWebClient(token=token, base_url=api_url)
        self.app = AsyncApp(
            signing_secret=signing_secret,
            token=token,
            client=self.client,
            process_before_response=True,  # we ack ourselves, then work in the background
        )
        self.app.command(COMMAND)(self._on_command)
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Serve the bot token's own workspace (ARCHITECTURE.md: EXPORTBOT_WORKSPACES)."""
        identity = await self.client.auth_test()
        self._service.serve_workspace(f"slack:{identity['team_id']}")

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def handle(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        actor = slash_actor(body)
        text = str(body.get("text", ""))
        work = asyncio.create_task(self._service.execute_text(text, actor, prefix=PREFIX))
        done, _ = await asyncio.wait({work}, timeout=self._ack_budget)
        if done:
            await ack(**slash_response(work.result()))
            return
        await ack(text=Translator(actor.locale).t("slack.working"), response_type="ephemeral")
        self._keep(self._answer_later(work, respond))

    async def _answer_later(self, work: asyncio.Task[Message], respond: AsyncRespond) -> None:
        message = await work
        try:
            await respond(**slash_response(message), replace_original=True)
        except Exception:  # the response URL may have expired (30 min); the log says so
            log.exception("could not answer a slash command through its response_url")

    def _keep(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
