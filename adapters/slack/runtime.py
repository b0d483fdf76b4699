"""What every Slack listener shares: the core service, the Web API, the sender, the user
directory, the bot's own identity, the job-end announcer and post book, and the background
tasks that outlive an ack."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.identity import UserDirectory
from adapters.slack.sender import SlackSender
from core.app.announcer import JobEndAnnouncer
from core.app.drafts import DraftCardRedrawer
from core.app.posts import PostBook
from core.app.service import CommandService
from core.delivery.pacing import Pacer
from core.delivery.senders import MessageRef
from core.domain.conversations import PostedKind
from core.domain.model import Actor, Principal
from core.domain.subscriptions import Destination
from core.ports import Clock
from core.support.background import Background
from core.support.lifecycle import Lifecycle
from core.views.message import Message

PLATFORM = "slack"


class SlackSurface:
    """The `ChatSurface` of core/app/surface.py over the Web API. A reply waits for its
    channel's turn (PLATFORMS.md: about one message a second)."""

    platform = PLATFORM

    def __init__(self, sender: SlackSender, directory: UserDirectory, pacer: Pacer) -> None:
        self._sender = sender
        self._directory = directory
        self._pacer = pacer

    async def update(self, workspace: str, ref: MessageRef, message: Message) -> None:
        await self._sender.update(ref, message)

    async def reply(self, workspace: str, parent: MessageRef, message: Message) -> MessageRef:
        await self._pacer.bucket(Destination(PLATFORM, workspace, parent.channel)).take()
        return await self._sender.reply(parent, message)

    async def private(self, user: Principal, message: Message) -> MessageRef:
        return await self._sender.private(user.user_id, message)

    async def locale_of(self, user: Principal) -> str:
        return (await self._directory.profile(user.user_id)).locale


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
        self.surface = SlackSurface(self.sender, self.directory, pacer)
        self.announcer = JobEndAnnouncer(service, self.surface)
        self.posts = PostBook(service, clock, PLATFORM, self.announcer.announce)
        self.drafts = DraftCardRedrawer(service, self.surface)
        service.draft_listeners.append(self.on_draft_changed)
        self.bot_user_id = ""
        self.team_url = ""  # https://acme.slack.com/, for permalinks without an API call
        self.background = Background("Slack")

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
        await self.pacer.bucket(Destination(PLATFORM, actor.workspace, actor.channel)).take()
        ref = await self.sender.post(actor.channel, message)
        assert message.job_id is not None
        await self.posts.remember_job(actor.workspace, ref, message.job_id)
        return ref

    async def post_draft_card(self, actor: Actor, message: Message) -> MessageRef:
        """Post a draft's review card in the actor's channel, for everyone there, and
        remember it, so a decision taken elsewhere redraws it. Raises `DeliveryError` when the
        bot may not post there."""
        await self.pacer.bucket(Destination(PLATFORM, actor.workspace, actor.channel)).take()
        ref = await self.sender.post(actor.channel, message)
        await self.posts.remember(actor.workspace, ref, PostedKind.DRAFT, draft_id=message.draft_id)
        return ref

    def on_draft_changed(self, draft_id: int, pressed: str) -> None:
        """A draft was decided or withdrawn: its cards on Slack are redrawn (not `pressed`)."""
        self.keep(self._redraw_draft(draft_id, pressed))

    async def _redraw_draft(self, draft_id: int, pressed: str) -> None:
        await self.drafts.redraw(draft_id, pressed)

    def keep(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run after the ack; the task is kept until it ends and cancelled at shutdown."""
        self.background.keep(coroutine)

    async def drain(self) -> None:
        """Wait for the background tasks (tests, graceful shutdown)."""
        await self.background.drain()

    async def _stop(self) -> None:
        await self.close()

    async def close(self) -> None:
        """Cancel the background tasks and wait until they have ended."""
        await self.background.close()
