"""What every Slack listener shares: the core service, the Web API, the sender, the user
directory, the bot's own identity, and the background tasks that outlive an ack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.identity import UserDirectory
from adapters.slack.sender import SlackSender
from core.app.service import CommandService
from core.delivery.pacing import Pacer
from core.delivery.senders import DeliveryError, MessageRef
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.model import Actor, Job
from core.domain.subscriptions import Destination
from core.ports import Clock
from core.support.lifecycle import Lifecycle
from core.views.message import Message

log = logging.getLogger(__name__)

PLATFORM = "slack"


class SlackRuntime(Lifecycle):
    def __init__(
        self, service: CommandService, client: AsyncWebClient, clock: Clock, pacer: Pacer
    ) -> None:
        self.service = service
        self.client = client
        self.clock = clock
        self.pacer = pacer  # shared with the dispatcher: one budget per channel
        self.directory = UserDirectory(client)
        self.sender = SlackSender(client, self._locale_of)
        self.bot_user_id = ""
        self.team_url = ""  # https://acme.slack.com/, for permalinks without an API call
        self._background: set[asyncio.Task[None]] = set()
        self.on_ended: Callable[[Job], Awaitable[None]] | None = None  # set by the adapter

    async def _locale_of(self, user_id: str) -> str:
        return (await self.directory.profile(user_id)).locale

    async def identify(self) -> str:
        """Learn the bot's own identity; returns its team id (served, ARCHITECTURE.md)."""
        identity = await self.client.auth_test()
        self.bot_user_id = str(identity.get("user_id") or "")
        self.team_url = str(identity.get("url") or "")
        return str(identity["team_id"])

    def permalink(self, channel: str, ts: str, thread: str = "") -> str:
        """Slack's permalink shape: `<team url>archives/<channel>/p<ts without the dot>`."""
        if not self.team_url or not ts:
            return ""
        link = f"{self.team_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
        return f"{link}?thread_ts={thread}&cid={channel}" if thread and thread != ts else link

    async def post_job_message(self, actor: Actor, message: Message) -> MessageRef:
        """Post a job's message in the actor's channel and remember it, so notes written in
        its thread find the job. Raises `DeliveryError` when the bot may not post there."""
        await self.paced(actor.workspace, actor.channel)
        ref = await self.sender.post(actor.channel, message)
        await self.remember(actor.workspace, ref, PostedKind.JOB, job_id=message.job_id)
        # A quick job may have ended before its card was remembered: tell its end now.
        ended = await self.service.ended_job(message.job_id) if message.job_id else None
        if ended is not None and self.on_ended is not None:
            await self.on_ended(ended)
        return ref

    async def paced(self, workspace: str, channel: str) -> None:
        """Wait for the channel's turn (PLATFORMS.md: about one message a second)."""
        await self.pacer.bucket(Destination(PLATFORM, workspace, channel)).take()

    async def remember(
        self, workspace: str, ref: MessageRef, kind: PostedKind, *, job_id: int | None = None
    ) -> None:
        await self.service.record_posted(
            PostedMessage(
                PLATFORM,
                workspace,
                ref.channel,
                ref.message_id,
                kind,
                self.clock.now(),
                job_id=job_id,
            )
        )

    async def tell_privately(self, actor: Actor, message: Message) -> None:
        """A reply with no channel to go to (App Home, global shortcuts): a direct message."""
        try:
            await self.sender.private(actor.principal.user_id, message)
        except DeliveryError as error:
            log.warning("could not message %s privately: %s", actor.principal, error)

    def keep(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run after the ack; the task is kept until it ends and cancelled at shutdown."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a Slack background task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the background tasks (tests, graceful shutdown)."""
        while self._background:
            await asyncio.wait(list(self._background))

    async def _stop(self) -> None:
        await self.close()

    async def close(self) -> None:
        """Cancel the background tasks and wait until they have ended."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
