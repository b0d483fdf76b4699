"""Buttons, shortcuts and modal submissions (A1): Slack's interactivity, all on one URL.

Every press is acknowledged at once; the core decides what it means from the button's
`(action, object:version)`, answers, and says where the answer goes (core/app/presses.py):
privately (ephemeral), in place of the card, or as a new message. Buttons that need words (a
note, a new draft) open a modal.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from adapters.slack.identity import interaction_channel_name, interaction_ids, request_key
from adapters.slack.modals import FORM_OF_CALLBACK, Origin, modal, result_modal, submitted_values
from adapters.slack.render import render, unescape
from adapters.slack.runtime import PLATFORM, SlackRuntime
from adapters.slack.surface import PREFIX, SHORTCUT_ANNOTATE, SHORTCUT_NEW_DRAFT
from core.app.notes import job_of
from core.app.presses import Disposition, form_instead, press
from core.app.surface import tell_privately
from core.commands.forms import DRAFT_FORM, NOTE_FORM, FormInvalid, FormRef
from core.delivery.senders import DeliveryError, MessageRef
from core.domain.conversations import PostedKind
from core.domain.model import Actor
from core.i18n import Translator
from core.views.message import Message

log = logging.getLogger(__name__)

ANY_ACTION = re.compile(r".*")  # a press without an action id is answered too


class Interactions:
    def __init__(self, runtime: SlackRuntime) -> None:
        self._runtime = runtime

    def register(self, app: AsyncApp) -> None:
        app.action(ANY_ACTION)(self._on_button)
        app.shortcut(SHORTCUT_ANNOTATE)(self._on_annotate_shortcut)
        app.shortcut(SHORTCUT_NEW_DRAFT)(self._on_new_draft_shortcut)
        for callback in FORM_OF_CALLBACK:
            app.view(callback)(self._on_submission)

    async def _actor(self, body: dict[str, Any], *, thread: str = "") -> Actor:
        team, user, channel = interaction_ids(body)
        name = str((body.get("user") or {}).get("name") or "")
        return await self._runtime.directory.actor(
            team,
            user,
            channel=channel,
            thread=thread,
            name=name,
            channel_name=interaction_channel_name(body),
        )

    # -- buttons ---------------------------------------------------------------------------

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()  # at once; the answer follows through response_url or the Web API
        action: dict[str, Any] = next(iter(body.get("actions") or []), {})
        name, value = str(action.get("action_id", "")), str(action.get("value", ""))
        container = body.get("container") or {}
        message_ts = str(container.get("message_ts") or "")
        actor = await self._actor(body, thread=message_ts)
        ref = form_instead(name, value.partition(":")[0])
        if ref is not None:
            origin = Origin(ref.context, actor.channel, message_ts)
            trigger = str(body.get("trigger_id", ""))
            await self._open_form(ref.form_id, trigger, actor, origin, respond=respond)
            return
        self._runtime.keep(self._press(name, value, actor, respond, body))

    async def _press(
        self, name: str, value: str, actor: Actor, respond: AsyncRespond, body: dict[str, Any]
    ) -> None:
        container = body.get("container") or {}
        on = f"{container.get('channel_id') or actor.channel}:{container.get('message_ts') or ''}"
        pressed = await press(
            self._runtime.service,
            name,
            value,
            actor,
            prefix=PREFIX,
            message=on if container.get("message_ts") else "",
            once=request_key(body),
            on_message=bool(body.get("response_url")),  # not from App Home or a modal
        )
        message = pressed.message
        if pressed.disposition is Disposition.PRIVATE and not body.get("response_url"):
            await tell_privately(self._runtime.surface, actor, message)  # no message to answer in
        elif pressed.disposition is Disposition.PRIVATE:
            await respond(**render(message), response_type="ephemeral", replace_original=False)
        elif pressed.disposition is Disposition.NEW_MESSAGE:
            try:
                await self._runtime.post_job_message(actor, message)
            except DeliveryError:
                await respond(**render(message), response_type="in_channel", replace_original=False)
        elif message.shared and container.get("is_ephemeral"):
            # Submitted from the author's private draft card: the review card goes to the
            # whole channel (a private message cannot become a public one in place).
            try:
                await self._runtime.post_draft_card(actor, message)
            except DeliveryError:
                await respond(**render(message), response_type="in_channel", replace_original=False)
            await respond(text="", delete_original=True)
        else:
            await respond(**render(message), response_type="in_channel", replace_original=True)

    # -- shortcuts -------------------------------------------------------------------------

    async def _on_annotate_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        actor = await self._actor(body)
        message = body.get("message") or {}
        ts = str(message.get("ts") or "")
        parent = str(message.get("thread_ts") or ts)
        job_id = await job_of(self._runtime.service, PLATFORM, (actor.channel, parent))
        if job_id is None:
            t = Translator(actor.locale)
            text = t.t("slack.not_a_job_thread")
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        # Someone else's words become the note's first draft; the bot's own card does not.
        # Slack sends the message's `& < >` as entities: the form starts from what was typed.
        initial = "" if message.get("bot_id") else unescape(str(message.get("text") or ""))
        origin = Origin(
            str(job_id),
            actor.channel,
            parent,
            self._runtime.permalink(actor.channel, ts, parent),
        )
        await self._open_form(
            NOTE_FORM, str(body.get("trigger_id", "")), actor, origin, initial, respond=respond
        )

    async def _on_new_draft_shortcut(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        actor = await self._actor(body)
        await self._open_form(DRAFT_FORM, str(body.get("trigger_id", "")), actor, Origin())

    async def _open_form(
        self,
        form_id: str,
        trigger_id: str,
        actor: Actor,
        origin: Origin,
        initial: str = "",
        *,
        respond: AsyncRespond | None = None,
    ) -> None:
        """Open the form; when Slack will not (a trigger expires 3 s after the press), say so
        to the presser instead of failing the request in silence."""
        t = Translator(actor.locale)
        form = self._runtime.service.form(FormRef(form_id, origin.context), actor, initial)
        try:
            await self._runtime.client.views_open(
                trigger_id=trigger_id, view=modal(form, origin, t)
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.info("views.open failed for %s: %s", actor.principal, error)
            text = t.t("slack.form_not_opened")
            if respond is not None:
                await respond(text=text, response_type="ephemeral", replace_original=False)
            else:  # a global shortcut: no message to answer under
                said = Message(title=text, summary=text, ephemeral=True)
                await tell_privately(self._runtime.surface, actor, said)

    # -- modal submissions -----------------------------------------------------------------

    async def _on_submission(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        form_id = FORM_OF_CALLBACK[str(view.get("callback_id"))]
        origin = Origin.loads(str(view.get("private_metadata") or ""))
        actor = await self._actor(body, thread=origin.thread)
        try:
            message = await self._runtime.service.submit_form(
                FormRef(form_id, origin.context),
                submitted_values(view),
                actor,
                link=origin.link,
                prefix=PREFIX,
                once=request_key(body),
            )
        except FormInvalid as invalid:
            await ack(response_action="errors", errors=invalid.errors)
            return
        if form_id == NOTE_FORM:
            await ack()  # the modal closes; the note is echoed where the job is discussed
            self._runtime.keep(self._echo_note(actor, origin, message))
        else:
            await ack(
                response_action="update", view=result_modal(message, Translator(actor.locale))
            )

    async def _echo_note(self, actor: Actor, origin: Origin, message: Message) -> None:
        if not (origin.channel and origin.thread):
            await tell_privately(self._runtime.surface, actor, message)
            return
        ref = await self._runtime.sender.reply(MessageRef(origin.channel, origin.thread), message)
        await self._runtime.posts.remember(
            actor.workspace, ref, PostedKind.NOTE, job_id=message.job_id
        )
