"""What exportbot does with a Teams activity (an Agents SDK `ActivityHandler`).

A message to the bot — @mentioned in a channel, in a group chat, or in a personal chat — runs
the one grammar, with or without `/export` or `export` in front; the reply is an Adaptive Card
rendered from the core's `Message`. Every activity also refreshes the conversation reference
the bot keeps, so it can write there later (alerts, the end of a job).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any
from urllib.parse import quote

import aiohttp
from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationReference,
    InvokeResponse,
)
from microsoft_agents.hosting.core import ActivityHandler, TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from adapters.teams.cards import (
    FORM_DATA_KEYS,
    FORM_SUBMIT,
    card_from_invoke_value,
    form_attachment,
    form_card,
    invoke_card_response,
    invoke_message_response,
    message_activity,
    message_card,
)
from adapters.teams.mentions import MentionUnresolved, resolved_text, user_mentions
from adapters.teams.profile import PROFILE
from core.app.notes import note_or_command
from core.app.posts import PostBook
from core.app.presses import Disposition, form_instead, press
from core.app.service import CommandService
from core.commands.actions import COMMENT_INPUT
from core.commands.forms import FormInvalid, FormRef, errors_in_words
from core.delivery.senders import MessageRef
from core.domain.conversations import PostedKind
from core.domain.model import Actor, Principal
from core.i18n import Translator
from core.views.message import Message

log = logging.getLogger(__name__)

PLATFORM = "teams"
PREFIX = PROFILE.prefix  # how people address the bot, in replies' hints
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
# The entities Teams writes in message text, undone in one pass so that a typed `&lt;` (sent
# as `&amp;lt;`) stays `&lt;`. Not `html.unescape`: it also reads `&not` without `;` as `¬`,
# and clients that send raw text (the Agents Playground) would lose "&notes".
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "nbsp": " ", "quot": '"', "#39": "'", "apos": "'"}
_ENTITY = re.compile(r"&(amp|lt|gt|nbsp|quot|#39|apos);")
_LEADING_VERB = re.compile(r"^\s*/?export\b\s*", re.IGNORECASE)


def command_text(activity: Activity, text: str | None = None) -> str:
    """The typed command: mentions of the bot removed, `/export` or `export` in front
    dropped, Teams' HTML entities undone. `text`: the activity's, its people's mentions
    already written as the grammar names a person (`typed_text`)."""
    text = activity.text or "" if text is None else text
    recipient = activity.recipient.id if activity.recipient else ""
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True, exclude_none=True)
        mentioned = (data.get("mentioned") or {}).get("id")
        if data.get("type") == "mention" and mentioned == recipient and data.get("text"):
            text = text.replace(str(data["text"]), " ")
    text = _MENTION.sub(" ", text)  # a mention the entities did not describe
    text = _ENTITY.sub(lambda m: _ENTITIES[m[1]], text)
    return _LEADING_VERB.sub("", text.strip(), count=1).strip()


async def typed_text(turn_context: TurnContext) -> str:
    """`command_text` with each person @mentioned written `<@aad-object-id>`, from the
    mention's entity or the conversation's roster; raises `MentionUnresolved`."""
    activity = turn_context.activity
    text = activity.text or ""
    recipient = activity.recipient.id if activity.recipient else ""
    entities = [e.model_dump(by_alias=True, exclude_none=True) for e in activity.entities or []]
    mentions = user_mentions(text, entities, recipient or "")
    if mentions:
        text = await resolved_text(text, mentions, functools.partial(_roster_id, turn_context))
    return command_text(activity, text)


async def _roster_id(turn_context: TurnContext, member_id: str) -> str:
    """The AAD object id of the member `member_id` (`29:…`) of this conversation, through
    the connector client of the turn (authenticated as every other connector call); "" when
    the roster has no such member."""
    client = turn_context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
    if client is None:
        raise LookupError("No connector client in this turn.")
    conversation = turn_context.activity.conversation
    channel, _ = split_chain(conversation.id if conversation else "")
    try:
        member = await client.conversations.get_conversation_member(channel, member_id)
    except aiohttp.ClientResponseError as error:
        if error.status == 404:
            return ""
        raise
    found = member.model_dump(by_alias=True, exclude_none=True)
    object_id = found.get("aadObjectId") or found.get("objectId") or ""
    return str(object_id)


def unresolved_reply(actor: Actor, unknown: MentionUnresolved) -> Message:
    """What the speaker hears when a mention could not be resolved: nothing was done."""
    t = Translator(actor.locale)
    key = "teams.mention_failed" if unknown.failed else "teams.mention_unknown"
    text = t.t(key, name=unknown.name)
    return Message(title=text, summary=text, ephemeral=True, error_key=key)


def split_chain(conversation: str) -> tuple[str, str]:
    """`19:…@thread.tacv2;messageid=123` → (channel, root message of the reply chain)."""
    channel, _, root = conversation.partition(";messageid=")
    return channel, root


def message_link(activity: Activity) -> str:
    """Teams' deep link to a message (what a note links back to)."""
    channel, root = split_chain(activity.conversation.id if activity.conversation else "")
    tenant = tenant_of(activity)
    parent = f"&parentMessageId={root}" if root else ""
    return (
        f"https://teams.microsoft.com/l/message/{quote(channel, safe='')}/{activity.id}"
        f"?tenantId={tenant}{parent}"
    )


def tenant_of(activity: Activity) -> str:
    conversation = activity.conversation
    tenant = conversation.tenant_id if conversation else None
    if not tenant:
        raw: object = activity.channel_data or {}
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        tenant = (data.get("tenant") or {}).get("id")
    return str(tenant or "")


def actor_of(activity: Activity) -> Actor:
    """Principals are (teams, tenant id, AAD object id); the conversation is the channel."""
    person = activity.from_property
    user = (person.aad_object_id or person.id) if person else ""
    conversation = activity.conversation.id if activity.conversation else ""
    kind = activity.conversation.conversation_type if activity.conversation else None
    return Actor(
        Principal(PLATFORM, tenant_of(activity), str(user)),
        (person.name if person else "") or str(user),
        activity.locale or "en",
        channel=conversation,
        thread=activity.reply_to_id or "",
        channel_name=conversation_name(activity),
        direct=kind == "personal",  # the person's own chat with the bot
    )


def conversation_name(activity: Activity) -> str:
    """What people call the conversation: a team channel's name (`channelData.channel`;
    a team's General channel comes without one), a group chat's name; nothing for a
    personal chat or when Teams gave no name."""
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    if kind == "channel":
        raw: object = activity.channel_data or {}
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        channel = data.get("channel")
        name = channel.get("name") if isinstance(channel, dict) else None
    elif kind == "groupChat" and conversation is not None:
        name = conversation.name
    else:
        name = None
    return name.strip() if isinstance(name, str) else ""


class TeamsAgent(ActivityHandler):
    def __init__(self, service: CommandService, posts: PostBook) -> None:
        self._service = service
        self._posts = posts  # where job cards were answered (their end is told there)
        # What this process last wrote per (tenant, key): a new process writes each once.
        self._written: dict[tuple[str, str], dict[str, Any]] = {}

    async def on_turn(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        await self._remember(turn_context.activity)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        activity = turn_context.activity
        actor = actor_of(activity)
        channel, root = split_chain(actor.channel)
        try:
            text = await typed_text(turn_context)
        except MentionUnresolved as unknown:  # nothing is done for a person nobody knows
            log.info("Teams mention not resolved (roster failed: %s)", unknown.failed)
            refused = unresolved_reply(actor, unknown)
            await turn_context.send_activity(Activity.model_validate(message_activity(refused)))
            return
        message = await note_or_command(  # B3: a reply in a job's chain is a note
            self._service,
            actor,
            text,
            platform=PLATFORM,
            channel=channel,
            parent=root,
            link=message_link(activity),
            raw=f"reply-chain note {activity.id}",
            prefix=PREFIX,
            once=_request_key(activity),
        )
        answer = await turn_context.send_activity(
            Activity.model_validate(message_activity(message))
        )
        if message.follow_up is not None:  # the tour's offer (D1): a card of its own, after
            await turn_context.send_activity(
                Activity.model_validate(message_activity(message.follow_up))
            )
        if message.job_id is not None and not message.ephemeral:
            # The card, and the root of the chain it was answered in: a reply mentioning the
            # bot anywhere in that chain then annotates the job.
            card = MessageRef(channel, str(answer.id) if answer is not None and answer.id else "")
            chain = root or activity.id or ""
            await self._posts.remember_job(actor.workspace, card, message.job_id, chain_root=chain)
        elif message.shared and message.draft_id is not None and answer is not None and answer.id:
            # A draft's review card: redrawn here when it is decided elsewhere.
            card = MessageRef(channel, str(answer.id))
            await self._posts.remember(
                actor.workspace, card, PostedKind.DRAFT, draft_id=message.draft_id
            )

    async def on_invoke_activity(  # type: ignore[override]
        self, turn_context: TurnContext
    ) -> InvokeResponse | None:
        """A card button (`Action.Execute`, Universal Actions): the core decides what it means
        and where its answer goes (core/app/presses.py); this renders it there."""
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return InvokeResponse(status=501)
        actor = actor_of(activity)
        t = Translator(actor.locale)
        try:
            verb, data = card_from_invoke_value(activity.value)
        except ValueError as error:  # not a press of a card we drew: refused, and audited
            refused = await self._service.refuse_action("invoke", str(error), actor, prefix=PREFIX)
            return _invoke(invoke_message_response(refused.text))
        ref = form_instead(verb, str(data.get("object", "")))
        if ref is not None:  # the form comes as a card of its own; the pressed one stays
            form = self._service.form(ref, actor)
            required = t.t("form.error.required")
            own = {"type": "message", "attachments": [form_attachment(form, required)]}
            await turn_context.send_activity(Activity.model_validate(own))
            return _invoke(invoke_message_response(t.t("teams.form_below")))
        if verb == FORM_SUBMIT:
            return await self._submitted(turn_context, actor, data)
        value = f"{data.get('object', '')}:{data.get('version', 0)}"
        comment = str(data.get(COMMENT_INPUT) or "")  # typed beside the buttons, if any
        on = activity.reply_to_id or ""
        pressed = await press(
            self._service,
            verb,
            value,
            actor,
            prefix=PREFIX,
            comment=comment,
            message=f"{actor.channel}:{on}" if on else "",
            once=_request_key(activity),
        )
        message = pressed.message
        if pressed.disposition is Disposition.PRIVATE:
            return _invoke(invoke_message_response(message.text))
        if pressed.disposition is Disposition.NEW_MESSAGE:
            await turn_context.send_activity(Activity.model_validate(message_activity(message)))
            return _invoke(invoke_message_response(message.summary or message.title))
        if activity.reply_to_id:  # everyone sees the decision, not only the presser
            redrawn = Activity.model_validate(message_activity(message))
            redrawn.id = activity.reply_to_id
            await turn_context.update_activity(redrawn)
        return _invoke(invoke_card_response(message_card(message)))

    async def _submitted(
        self, turn_context: TurnContext, actor: Actor, data: dict[str, Any]
    ) -> InvokeResponse:
        """A form's submit: Teams merges the typed values into `data`. A bad value or a
        refusal shows the form again with the error under its input."""
        ref = FormRef(str(data.get("form", "")), str(data.get("context", "")))
        values = {k: str(v) for k, v in data.items() if k not in FORM_DATA_KEYS}
        t = Translator(actor.locale)
        try:
            message = await self._service.submit_form(
                ref,
                values,
                actor,
                link=message_link(turn_context.activity),
                prefix=PREFIX,
                once=_request_key(turn_context.activity),
            )
        except FormInvalid as invalid:
            form = self._service.form(ref, actor)
            if data.get("inline"):  # under a card: said to the presser, the typing kept
                return _invoke(invoke_message_response(errors_in_words(t, form, invalid)))
            card = form_card(
                form,
                values=values,
                errors=invalid.errors,
                required_error=t.t("form.error.required"),
            )
            return _invoke(invoke_card_response(card))
        if data.get("inline"):
            return await self._redraw_under(turn_context, actor, message)
        return _invoke(invoke_card_response(message_card(message)))

    async def _redraw_under(
        self, turn_context: TurnContext, actor: Actor, outcome: Message
    ) -> InvokeResponse:
        """A form sent from under a card: a job's own card is redrawn for everyone with the
        note on it (and the form folded away); any other card stays, and the presser is told."""
        on = turn_context.activity.reply_to_id or ""
        channel, _ = split_chain(actor.channel)
        posted = await self._service.find_posted(PLATFORM, channel, on) if on else None
        if (
            posted is None
            or posted.kind is not PostedKind.JOB
            or outcome.job_id is None
            or posted.job_id != outcome.job_id
        ):
            return _invoke(invoke_message_response(outcome.summary or outcome.title))
        message = await self._service.job_view(outcome.job_id, actor.locale)
        if message is None:  # the note was just added to it: only a forgery gets here
            return _invoke(invoke_message_response(outcome.summary or outcome.title))
        redrawn = Activity.model_validate(message_activity(message))
        redrawn.id = on
        await turn_context.update_activity(redrawn)
        return _invoke(invoke_card_response(message_card(message)))

    async def _remember(self, activity: Activity) -> None:
        """Keep where this conversation is, where its person is (a personal chat), and enough
        to open a 1:1 chat with them (C3), so alerts and private messages find them after a
        restart. Written only when changed: every activity passes here, most change nothing."""
        tenant = tenant_of(activity)
        if not tenant or activity.conversation is None:
            return
        reference: ConversationReference = activity.get_conversation_reference()
        reference.activity_id = None  # which message came last is not where to write
        stored = reference.model_dump(by_alias=True, exclude_none=True, mode="json")
        references = {activity.conversation.id: stored}
        person = activity.from_property
        if activity.conversation.conversation_type == "personal" and person:
            references[f"user:{person.aad_object_id or person.id}"] = stored
        if person and person.aad_object_id and activity.recipient:
            references[f"member:{person.aad_object_id}"] = {
                "user": _account(person),
                "bot": _account(activity.recipient),
                "serviceUrl": activity.service_url,
            }
        changed = {
            key: value
            for key, value in references.items()
            if self._written.get((tenant, key)) != value
        }
        if changed:
            await self._service.remember_conversations(PLATFORM, tenant, changed)
            self._written.update({(tenant, key): value for key, value in changed.items()})


def _invoke(body: dict[str, Any]) -> InvokeResponse:
    return InvokeResponse(status=200, body=body)


def _account(account: ChannelAccount) -> dict[str, Any]:
    found: dict[str, Any] = account.model_dump(by_alias=True, exclude_none=True, mode="json")
    return found


def _request_key(activity: Activity) -> str:
    """The activity's id: Teams gives each its own, a replay repeats it (E2)."""
    return f"activity {activity.id}" if activity.id else ""
