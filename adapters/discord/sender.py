"""Proactive messages on Discord (alerts, job messages, private notes) through the REST API.

A channel post carries its delivery key as a nonce with `enforce_nonce`: a retry after a
crash gets the message already created back instead of a second one (Discord keeps nonces a
few minutes), so `recall` has nothing to search. A thread started from a message has that
message's id, so replying to a message is posting in the channel of that id, starting the
thread first the one time it does not exist yet.
"""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

import discord

from adapters.discord.render import (
    MAX_ALT_TEXT,
    attachments_field,
    render,
    text_message,
    uploads,
)
from adapters.discord.render import Upload as Attachment
from adapters.discord.rest import DiscordRest, UnknownChannel, nonce
from core.delivery.senders import DeliveryError, MessageRef, Upload
from core.safety.text import cut
from core.views.message import Message

MAX_THREAD_NAME = 100
_UNESCAPE = re.compile(r"\\(.)")  # a thread name is plain text: no markdown escapes
THREAD_ARCHIVE_MINUTES = 1440  # a day without activity, then Discord hides the thread

LocaleOf = Callable[[str], Awaitable[str]]


class DiscordSender:
    edits = True
    threads = True

    def __init__(self, rest: DiscordRest, locale_of: LocaleOf) -> None:
        self._rest = rest
        self._locale_of = locale_of

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef:
        body = render(message)
        if key:
            body.update(nonce=nonce(key), enforce_nonce=True)
        # Images the message carries as bytes go as files, each with its alt text; one known
        # only by its URL is not fetched (no view makes such images yet).
        inline = [u for u in uploads(message) if u.data is not None]
        if inline:
            body["attachments"] = attachments_field(inline)
        sent = await self._rest.request(
            "POST",
            "/channels/{channel_id}/messages",
            json=body,
            files=[_file(u.filename, u.data or b"", u.description) for u in inline] or None,
            route={"channel_id": channel},
        )
        return MessageRef(channel, str(sent["id"]))

    async def update(self, ref: MessageRef, message: Message) -> MessageRef:
        where = ref.thread_id or ref.channel
        if ref.thread_id and ref.thread_id == ref.message_id:
            where = ref.channel  # the thread's starter message lives in the parent channel
        await self._rest.request(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            json=render(message),
            route={"channel_id": where, "message_id": ref.message_id},
        )
        return ref

    async def reply(self, parent: MessageRef, message: Message, *, key: str = "") -> MessageRef:
        """In the thread of `parent` (started from it the first time)."""
        thread = parent.thread_id or parent.message_id
        try:
            sent = await self.post(thread, message, key=key)
        except UnknownChannel:
            await self._start_thread(parent, message)
            sent = await self.post(thread, message, key=key)
        return MessageRef(parent.channel, sent.message_id, thread)

    async def _start_thread(self, parent: MessageRef, message: Message) -> None:
        """Named after the message it hangs from (the channel lists threads by name)."""
        route = {"channel_id": parent.channel, "message_id": parent.message_id}
        try:
            starter = await self._rest.request(
                "GET", "/channels/{channel_id}/messages/{message_id}", route=route
            )
            embeds = starter.get("embeds") or [{}]
            name = _UNESCAPE.sub(r"\1", str(embeds[0].get("title") or starter.get("content") or ""))
        except DeliveryError:
            name = ""
        await self._rest.request(
            "POST",
            "/channels/{channel_id}/messages/{message_id}/threads",
            json={
                "name": cut(name or message.title, MAX_THREAD_NAME),
                "auto_archive_duration": THREAD_ARCHIVE_MINUTES,
            },
            route={"channel_id": parent.channel, "message_id": parent.message_id},
        )

    async def private(self, user_id: str, message: Message, *, key: str = "") -> MessageRef:
        channel = await self._rest.request(
            "POST", "/users/@me/channels", json={"recipient_id": user_id}
        )
        return await self.post(str(channel["id"]), message, key=key)

    async def recall(
        self, channel: str, key: str, since: datetime, *, thread_id: str = ""
    ) -> MessageRef | None:
        return None  # the nonce makes the retried post itself return the first message

    async def recall_private(self, user_id: str, key: str, since: datetime) -> MessageRef | None:
        return None

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None:
        description = upload.alt_text or upload.title
        attached = (
            discord.File(
                upload.path, filename=upload.filename, description=cut(description, MAX_ALT_TEXT)
            )
            if upload.path
            else _file(upload.filename, upload.content, description)
        )
        body = text_message(upload.title)
        try:
            await self._rest.request(
                "POST",
                "/channels/{channel_id}/messages",
                json={**body, "attachments": [{"id": 0, "description": attached.description}]},
                files=[attached],
                route={"channel_id": thread_id or channel},
            )
        finally:
            attached.close()  # a file opened from its path is ours to close

    async def locale_of(self, user_id: str) -> str:
        return await self._locale_of(user_id)


def upload_file(upload: Attachment) -> discord.File:
    """A rendered upload as the file discord.py sends (a fresh stream each time)."""
    return _file(upload.filename, upload.data or b"", upload.description)


def _file(name: str, data: bytes, alt_text: str) -> discord.File:
    return discord.File(io.BytesIO(data), filename=name, description=cut(alt_text, MAX_ALT_TEXT))
