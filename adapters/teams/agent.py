"""What exportbot does with a Teams activity (an Agents SDK `ActivityHandler`).

A message to the bot — @mentioned in a channel, in a group chat, or in a personal chat — runs
the one grammar, with or without `/export` or `export` in front; the reply is an Adaptive Card
rendered from the core's `Message`. Every activity also refreshes the conversation reference
the bot keeps, so it can write there later (alerts, the end of a job).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import ActivityHandler, TurnContext

from adapters.teams.cards import message_activity
from core.model import Actor, Principal
from core.ports import Clock
from core.service import CommandService

log = logging.getLogger(__name__)

PLATFORM = "teams"
PREFIX = "export "  # how people address the bot in replies' hints (`export help`)
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_LEADING_VERB = re.compile(r"^\s*/?export\b\s*", re.IGNORECASE)


def command_text(activity: Activity) -> str:
    """The typed command: mentions of the bot removed, `/export` or `export` in front
    dropped, Teams' HTML entities undone."""
    text = activity.text or ""
    recipient = activity.recipient.id if activity.recipient else ""
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True, exclude_none=True)
        mentioned = (data.get("mentioned") or {}).get("id")
        if data.get("type") == "mention" and mentioned == recipient and data.get("text"):
            text = text.replace(str(data["text"]), " ")
    text = _MENTION.sub(" ", text)  # a mention the entities did not describe
    text = text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<")
    text = text.replace("&gt;", ">")
    return _LEADING_VERB.sub("", text.strip(), count=1).strip()


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
    return Actor(
        Principal(PLATFORM, tenant_of(activity), str(user)),
        (person.name if person else "") or str(user),
        activity.locale or "en",
        channel=conversation,
        thread=activity.reply_to_id or "",
    )


class TeamsAgent(ActivityHandler):
    def __init__(self, service: CommandService, clock: Clock) -> None:
        self._service = service
        self._clock = clock

    async def on_turn(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        await self._remember(turn_context.activity)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        activity = turn_context.activity
        text = command_text(activity) or "help"
        message = await self._service.execute_text(text, actor_of(activity), prefix=PREFIX)
        await turn_context.send_activity(Activity.model_validate(message_activity(message)))

    async def _remember(self, activity: Activity) -> None:
        """Keep where this conversation is, and — in a personal chat — where its person is,
        so an alert or a private message can find them after a restart."""
        tenant = tenant_of(activity)
        if not tenant or activity.conversation is None:
            return
        reference: ConversationReference = activity.get_conversation_reference()
        stored = reference.model_dump(by_alias=True, exclude_none=True, mode="json")
        keys = [activity.conversation.id]
        if activity.conversation.conversation_type == "personal" and activity.from_property:
            person = activity.from_property.aad_object_id or activity.from_property.id
            keys.append(f"user:{person}")
        await self._service.remember_conversation(PLATFORM, tenant, keys, stored)
