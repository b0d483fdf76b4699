"""`/export <grammar>`: every verb of the registry as a slash command (A1).

The listener starts the command at once and waits at most the ack budget: a quick answer
goes back in the ack itself; a slow one is acknowledged with "working on it" and answered
later through the command's `response_url` (Bolt's default ack path polls every 10 ms; this
one never waits longer than the budget). A job's message is posted through the Web API
instead, so its `ts` is known and notes written in its thread find the job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from adapters.slack.identity import request_key
from adapters.slack.render import render, unescape
from adapters.slack.runtime import SlackRuntime
from adapters.slack.surface import COMMAND, PREFIX
from core.app.deadline import within
from core.delivery.senders import DeliveryError
from core.domain.model import Actor
from core.i18n import Translator
from core.views.message import Message

log = logging.getLogger(__name__)

ACK_BUDGET = 1.5  # seconds; Slack wants the ack within 3


def is_job_message(message: Message) -> bool:
    """Job messages are shown to the channel (their thread collects notes); the rest privately."""
    return message.job_id is not None and not message.ephemeral


def is_draft_card(message: Message) -> bool:
    """A draft's review card, for the whole channel: posted through the Web API, so its `ts`
    is known and a decision taken elsewhere redraws it."""
    return message.shared and message.draft_id is not None and not message.ephemeral


@functools.lru_cache(maxsize=256)
def slash_response(message: Message) -> dict[str, Any]:
    """The ack or response payload. Cached: the same answers (help) come back often; callers
    only unpack it, never change it."""
    shown = is_job_message(message) or (message.shared and not message.ephemeral)
    visibility = "in_channel" if shown else "ephemeral"
    return {**render(message), "response_type": visibility}


class SlashCommand:
    def __init__(self, runtime: SlackRuntime, *, ack_budget: float = ACK_BUDGET) -> None:
        self._runtime = runtime
        self.ack_budget = ack_budget

    def register(self, app: AsyncApp) -> None:
        app.command(COMMAND)(self._on_command)

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        # The budget starts now: finding out who is speaking (users.info) is part of the work.
        answered = await within(
            self._execute(body),
            self.ack_budget,
            later=functools.partial(self._answer_later, respond=respond),
            background=self._runtime.background,
        )
        if answered is None:
            known = self._runtime.directory.known(str(body.get("user_id", "")))
            working = Translator(known.locale if known else "en").t("slack.working")
            await ack(text=working, response_type="ephemeral")
            return
        actor, message = answered
        if is_job_message(message):
            await ack()  # the job's own message follows in the channel
            self._runtime.keep(self._post_job(message, respond, actor))
        elif is_draft_card(message):
            await ack()  # the card follows in the channel
            self._runtime.keep(self._post_draft_card(message, respond, actor))
        else:
            await ack(**slash_response(message))
            if message.follow_up is not None:  # the tour's offer (D1): after the answer
                self._runtime.keep(self._follow_up(message, respond))

    async def _execute(self, body: dict[str, Any]) -> tuple[Actor, Message]:
        actor = await self._runtime.directory.actor(
            str(body.get("team_id", "")),
            str(body.get("user_id", "")),
            channel=str(body.get("channel_id", "")),
            name=str(body.get("user_name", "")),
            channel_name=str(body.get("channel_name", "")),
        )
        text = unescape(str(body.get("text", "")))
        key = request_key(body)
        return actor, await self._runtime.service.execute_text(text, actor, prefix=PREFIX, once=key)

    async def _answer_later(
        self, work: asyncio.Task[tuple[Actor, Message]], *, respond: AsyncRespond
    ) -> None:
        actor, message = await work
        if is_job_message(message) or is_draft_card(message):
            await respond(text="", delete_original=True)  # the "working on it" note
            if is_job_message(message):
                await self._post_job(message, respond, actor)
            else:
                await self._post_draft_card(message, respond, actor)
            return
        try:
            await respond(**slash_response(message), replace_original=True)
        except Exception:  # the response URL may have expired (30 min); the log says so
            log.exception("could not answer a slash command through its response_url")
            return
        await self._follow_up(message, respond)

    async def _follow_up(self, message: Message, respond: AsyncRespond) -> None:
        """What follows the answer as a message of its own (the tour's offer, D1), to the
        asker only, after the answer."""
        if message.follow_up is None:
            return
        try:
            await respond(**slash_response(message.follow_up), replace_original=False)
        except Exception:  # the response URL may have expired (30 min); the log says so
            log.exception("could not follow up a slash command through its response_url")

    async def _post_draft_card(self, message: Message, respond: AsyncRespond, actor: Actor) -> None:
        try:
            await self._runtime.post_draft_card(actor, message)
        except DeliveryError as error:
            # A channel the bot is not in: the response URL still shows it to everyone there;
            # only a decision taken elsewhere will not redraw it.
            log.info("posting draft #%s in %s failed (%s)", message.draft_id, actor.channel, error)
            await respond(**slash_response(message))

    async def _post_job(self, message: Message, respond: AsyncRespond, actor: Actor) -> None:
        try:
            await self._runtime.post_job_message(actor, message)
        except DeliveryError as error:
            # A DM or private channel the bot is not in: the response URL still reaches it,
            # only notes from that message's thread will not find the job.
            log.info("posting job #%s in %s failed (%s)", message.job_id, actor.channel, error)
            await respond(**slash_response(message))
        await self._follow_up(message, respond)
