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
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import render
from core.commands import ReviewDraft
from core.i18n import Translator
from core.messages import Message
from core.model import Actor, Principal
from core.schedules import Verdict
from core.service import CommandService

log = logging.getLogger(__name__)

COMMAND = "/export"
DRAFT_ACTIONS = re.compile(r"^draft\.(approve|reject|changes)$")
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


def button_actor(body: dict[str, Any]) -> Actor:
    user = body.get("user", {})
    team = user.get("team_id") or body.get("team", {}).get("id", "")
    return Actor(
        Principal("slack", str(team), str(user.get("id", ""))),
        str(user.get("name") or user.get("username") or user.get("id", "")),
        "en",
        channel=str(body.get("channel", {}).get("id", "")),
    )


def review_command(action: dict[str, Any]) -> ReviewDraft | None:
    """`draft.approve` + value `3:2` → a decision on draft #3 bound to version 2."""
    verdict = str(action.get("action_id", "")).removeprefix("draft.")
    draft, _, version = str(action.get("value", "")).partition(":")
    if verdict not in {v.value for v in Verdict} or not draft.isdigit() or not version.isdigit():
        return None
    return ReviewDraft(int(draft), Verdict(verdict), version=int(version))


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
        self.app.action(DRAFT_ACTIONS)(self._on_draft_button)
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

    async def _on_draft_button(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()  # at once; the decision is answered through response_url
        self._keep(self._decide(body, respond))

    async def _decide(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        actor = button_actor(body)
        command = next(filter(None, map(review_command, body.get("actions", []))), None)
        if command is None:
            return
        message = await self._service.execute(command, actor, raw=str(command), prefix=PREFIX)
        if message.ephemeral:
            # A refusal goes to the presser only; the card everyone sees stays as it was.
            await respond(**render(message), response_type="ephemeral", replace_original=False)
        else:
            await respond(**render(message), response_type="in_channel", replace_original=True)

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
