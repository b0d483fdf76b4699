"""The proactive Teams sender: post, update, reply in a reply chain, message a person 1:1.

Teams lets a bot write only where it has been (a channel, a chat, a person who talked to it):
each of those conversations' references is stored as activities arrive, so this works after
a restart. Errors map to what the delivery pipeline honours (PLATFORMS.md): 429 → wait as
told; 412, 502, 504 and other 5xx → retry with backoff; 403/404 → permanent; a timeout or a
dropped connection may have posted all the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from adapters.teams.cards import message_activity
from core.delivery.senders import (
    DeliveryError,
    MaybeDelivered,
    MessageRef,
    PermanentFailure,
    RetryAfter,
    Upload,
    retry_after_seconds,
)
from core.views.message import Message

Lookup = Callable[[str], Awaitable[dict[str, Any] | None]]  # key → stored reference
OpenChat = Callable[[str], Awaitable[None]]  # user id → their 1:1 chat opened and stored
RETRYABLE = frozenset({408, 412, 429, 500, 502, 503, 504})


class TeamsSender:
    edits = True
    threads = True

    def __init__(
        self, cloud: CloudAdapter, app_id: str, lookup: Lookup, open_chat: OpenChat
    ) -> None:
        self._cloud = cloud
        self._app_id = app_id
        self._lookup = lookup
        self._open_chat = open_chat

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef:
        reference = await self._reference(channel)
        sent = await self._send(reference, message)
        return MessageRef(channel, sent)

    async def reply(self, parent: MessageRef, message: Message, *, key: str = "") -> MessageRef:
        """In a channel, a reply chain is the conversation `<channel>;messageid=<root>`;
        chats have no chains, so there it is a new message."""
        reference = await self._reference(parent.channel)
        assert reference.conversation is not None
        if reference.conversation.conversation_type == "channel":
            reference.conversation.id = (
                f"{parent.channel.split(';')[0]};messageid={parent.message_id}"
            )
        sent = await self._send(reference, message)
        return MessageRef(parent.channel, sent, parent.message_id)

    async def update(self, ref: MessageRef, message: Message) -> MessageRef:
        reference = await self._reference(ref.channel)
        activity = Activity.model_validate(message_activity(message))
        activity.id = ref.message_id

        async def edit(context: TurnContext) -> None:
            await context.update_activity(activity)

        await self._continue(reference, edit)
        return ref

    async def private(self, user_id: str, message: Message, *, key: str = "") -> MessageRef:
        """To a person 1:1: in their chat with the bot, opened now if they have none yet."""
        if await self._lookup(f"user:{user_id}") is None:
            try:
                await self._open_chat(user_id)
            except aiohttp.ClientResponseError as error:
                raise _failure(error) from None
            except (TimeoutError, aiohttp.ClientError) as error:
                raise DeliveryError(f"no answer from Teams ({type(error).__name__})") from None
        reference = await self._reference(f"user:{user_id}")
        sent = await self._send(reference, message)
        assert reference.conversation is not None
        return MessageRef(reference.conversation.id, sent)

    async def recall(
        self, channel: str, key: str, since: datetime, *, thread_id: str = ""
    ) -> MessageRef | None:
        return None  # the connector offers no search by our key: a retry may repeat a post

    async def recall_private(self, user_id: str, key: str, since: datetime) -> MessageRef | None:
        return None

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None:
        raise PermanentFailure("file uploads to Teams are not supported yet")

    async def locale_of(self, user_id: str) -> str:
        reference = await self._lookup(f"user:{user_id}")
        return str((reference or {}).get("locale") or "en")

    async def _reference(self, key: str) -> ConversationReference:
        stored = await self._lookup(key.split(";")[0] if not key.startswith("user:") else key)
        if stored is None:
            raise PermanentFailure(
                "the bot has not been in this Teams conversation (add it there first)"
            )
        reference = ConversationReference.model_validate(stored)
        reference.activity_id = None  # a new message, not a reply to the one stored with it
        return reference

    async def _send(self, reference: ConversationReference, message: Message) -> str:
        activity = Activity.model_validate(message_activity(message))
        sent: list[str] = []

        async def send(context: TurnContext) -> None:
            answer = await context.send_activity(activity)
            sent.append(str(answer.id) if answer is not None and answer.id else "")

        await self._continue(reference, send)
        return sent[0] if sent else ""

    async def _continue(
        self, reference: ConversationReference, callback: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        activity = reference.get_continuation_activity()
        activity.id = None  # else what is sent becomes a reply to this made-up event
        failures: list[Exception] = []

        async def guarded(context: TurnContext) -> None:
            # The SDK's turn pipeline logs a callback's exception and returns as if all went
            # well: a refused post would count as sent. Keep it, to raise it below.
            try:
                await callback(context)
            except Exception as error:
                failures.append(error)

        try:
            if self._app_id:
                await self._cloud.continue_conversation(self._app_id, activity, guarded)
            else:  # no client id (loopback only): the connector is called anonymously
                await self._cloud.continue_conversation_with_claims(
                    ClaimsIdentity(), activity, guarded
                )
            if failures:
                raise failures[0]
        except aiohttp.ClientResponseError as error:
            raise _failure(error) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            detail = f"no answer from Teams ({type(error).__name__})"
            raise MaybeDelivered(detail) from None


def _failure(error: aiohttp.ClientResponseError) -> DeliveryError:
    status = error.status
    if status == 429:
        raw = error.headers.get("Retry-After", "") if error.headers else ""
        return RetryAfter(retry_after_seconds(raw), "Teams rate limit")
    failure = DeliveryError if status in RETRYABLE else PermanentFailure
    return failure(f"Teams answered {status}")
