"""The Slack app: one slack-bolt `AsyncApp` with every listener, served at POST /slack/events.

Bolt verifies each request's signature and 5-minute timestamp window before any listener
runs (G1): a bad one gets 401 and touches nothing. `process_before_response=True` makes the
HTTP answer wait for our own ack, which always leaves within the ack budget; slower work
continues in background tasks that `close()` cancels.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.commands import SlashCommand
from adapters.slack.events import Events
from adapters.slack.interactions import Interactions
from adapters.slack.runtime import SlackRuntime
from core.model import Job
from core.pacing import Pacer
from core.ports import Clock
from core.service import CommandService

log = logging.getLogger(__name__)


class SlackAdapter:
    def __init__(
        self,
        service: CommandService,
        clock: Clock,
        *,
        signing_secret: str,
        token: str,
        api_url: str,
        pacer: Pacer | None = None,
    ) -> None:
        # One connection pool for every Web API call: the SDK otherwise opens a session (and
        # a TCP connection) per call, which halves what the alert dispatcher can send.
        self._session = aiohttp.ClientSession()
        self.client = AsyncWebClient(
            token=token,
            base_url=api_url,
            session=self._session,
            # No blind retry on a dropped connection: the post may have landed. The alert
            # dispatcher looks for it by its key before trying again (exactly once).
            retry_handlers=[],
        )
        self.runtime = SlackRuntime(service, self.client, clock, pacer or Pacer())
        self.app = AsyncApp(
            signing_secret=signing_secret,
            client=self.client,  # carries the token; Bolt takes it from there
            process_before_response=True,  # we ack ourselves, then work in the background
        )
        self.team_id = ""  # known after start()
        self.slash = SlashCommand(self.runtime)
        self.events = Events(self.runtime)
        self.runtime.on_ended = self.events.on_job_ended
        for listeners in (self.slash, Interactions(self.runtime), self.events):
            listeners.register(self.app)

    async def start(self) -> None:
        """Learn the bot's identity and serve its workspace (ARCHITECTURE.md)."""
        team = await self.runtime.identify()
        self.team_id = team
        self.runtime.service.serve_workspace(f"slack:{team}")

    async def close(self) -> None:
        await self.runtime.close()
        await self._session.close()

    async def on_job_ended(self, job: Job) -> None:
        await self.events.on_job_ended(job)

    async def handle(self, request: web.Request) -> web.Response:
        retry = request.headers.get("X-Slack-Retry-Num")
        if retry:
            reason = request.headers.get("X-Slack-Retry-Reason", "")
            log.info("Slack retry #%s (%s); events are claimed once", retry, reason)
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)
