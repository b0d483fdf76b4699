"""Events API: notes from a job's thread (`app_mention`) and the App Home tab.

Slack retries an event it thinks went unanswered (`X-Slack-Retry-Num`); each event id is
claimed in the database first, so a retry never acts twice, even on another process (E2).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.slack.render import home_view, unescape
from adapters.slack.runtime import PLATFORM, SlackRuntime
from adapters.slack.surface import PREFIX
from core.app.notes import note_or_command
from core.commands import model as c
from core.delivery.senders import MessageRef
from core.domain.conversations import PostedKind

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class Events:
    def __init__(self, runtime: SlackRuntime) -> None:
        self._runtime = runtime

    def register(self, app: AsyncApp) -> None:
        app.event("app_mention")(self._on_mention)
        app.event("app_home_opened")(self._on_home_opened)

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        event_id = str(body.get("event_id") or event.get("event_ts") or "")
        if not await self._runtime.service.first_delivery(PLATFORM, event_id):
            log.info("event %s delivered again (retry); already handled", event_id)
            return
        self._runtime.keep(self._mention(body, event))

    async def _mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        runtime = self._runtime
        ts = str(event.get("ts") or "")
        parent = str(event.get("thread_ts") or "")
        channel = str(event.get("channel") or "")
        team = str(event.get("team") or body.get("team_id") or "")
        actor = await runtime.directory.actor(
            team, str(event.get("user") or ""), channel=channel, thread=parent or ts
        )
        text = self._without_bot_mention(unescape(str(event.get("text") or "")))
        message = await note_or_command(
            runtime.service,
            actor,
            text,
            platform=PLATFORM,
            channel=channel,
            parent=parent,
            link=runtime.permalink(channel, ts, parent),
            raw=f"thread note {ts}",
            prefix=PREFIX,
        )
        ref = await runtime.sender.reply(MessageRef(channel, parent or ts), message)
        if message.job_id is not None and not message.ephemeral:
            await runtime.posts.remember(
                actor.workspace, ref, PostedKind.NOTE, job_id=message.job_id
            )
        elif message.shared and message.draft_id is not None:  # redrawn once decided
            await runtime.posts.remember(
                actor.workspace, ref, PostedKind.DRAFT, draft_id=message.draft_id
            )
        if message.follow_up is not None:  # the tour's offer (D1), in the same thread
            await runtime.sender.reply(MessageRef(channel, parent or ts), message.follow_up)

    def _without_bot_mention(self, text: str) -> str:
        own = self._runtime.bot_user_id
        if own:
            text = re.sub(rf"<@{re.escape(own)}(?:\|[^>]*)?>", " ", text)
        return " ".join(text.split())

    async def _on_home_opened(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        user = str(event.get("user") or "")
        if event.get("tab", "home") != "home" or not user:  # nobody's tab: nothing to draw
            return
        self._runtime.keep(self.publish_home(str(body.get("team_id") or ""), user))

    async def publish_home(self, team: str, user: str) -> None:
        actor = await self._runtime.directory.actor(team, user)
        message = await self._runtime.service.execute(c.ShowHome(), actor, prefix=PREFIX)
        await self._runtime.client.views_publish(user_id=user, view=home_view(message))
