"""The proactive Slack sender: post, update, reply in thread, message privately, upload.

It speaks the core's `Sender` port (core/delivery/senders.py). Slack's 429 becomes `RetryAfter` with
the `Retry-After` seconds, so the delivery pipeline can wait exactly that long; answers that
no retry can fix (channel gone, not allowed) are marked permanent; a timeout or a dropped
connection may have posted all the same (`MaybeDelivered`).

chat.postMessage has no idempotency key, so the delivery's key rides in the message's
metadata, and `recall` finds it in the channel's history after a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.render import render
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

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "user_not_found",
        "cant_update_message",
        "message_not_found",
        "restricted_action",
    }
)


METADATA_EVENT = "exportbot_delivery"
HISTORY_PAGE = 200


class SlackSender:
    edits = True
    threads = True

    def __init__(
        self, client: AsyncWebClient, locales: Callable[[str], Awaitable[str]] | None = None
    ) -> None:
        self._client = client
        self._locales = locales  # the user directory's, cached (users.info)

    async def locale_of(self, user_id: str) -> str:
        return await self._locales(user_id) if self._locales else "en"

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef:
        answer = await _call(
            self._client.chat_postMessage(channel=channel, **render(message), **_metadata(key))
        )
        return MessageRef(str(answer["channel"]), str(answer["ts"]))

    async def recall(
        self, channel: str, key: str, since: datetime, *, thread_id: str = ""
    ) -> MessageRef | None:
        oldest = f"{since.timestamp() - 1:.6f}"
        common: dict[str, Any] = {
            "channel": channel,
            "oldest": oldest,
            "include_all_metadata": True,
            "limit": HISTORY_PAGE,
        }
        if thread_id:
            answer = await _call(self._client.conversations_replies(ts=thread_id, **common))
        else:
            answer = await _call(self._client.conversations_history(**common))
        for found in answer.get("messages") or []:
            payload = (found.get("metadata") or {}).get("event_payload") or {}
            if key in str(payload.get("keys", "")).split():
                return MessageRef(channel, str(found["ts"]), thread_id)
        return None

    async def recall_private(self, user_id: str, key: str, since: datetime) -> MessageRef | None:
        opened = await _call(self._client.conversations_open(users=user_id))
        return await self.recall(str(opened["channel"]["id"]), key, since)

    async def update(self, ref: MessageRef, message: Message) -> MessageRef:
        await _call(
            self._client.chat_update(channel=ref.channel, ts=ref.message_id, **render(message))
        )
        return ref

    async def reply(self, parent: MessageRef, message: Message, *, key: str = "") -> MessageRef:
        answer = await _call(
            self._client.chat_postMessage(
                channel=parent.channel,
                thread_ts=parent.message_id,
                **render(message),
                **_metadata(key),
            )
        )
        return MessageRef(str(answer["channel"]), str(answer["ts"]), parent.message_id)

    async def private(self, user_id: str, message: Message, *, key: str = "") -> MessageRef:
        opened = await _call(self._client.conversations_open(users=user_id))
        return await self.post(str(opened["channel"]["id"]), message, key=key)

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None:
        """Slack's external upload: reserve a URL, send the bytes there, share the file."""
        extra: dict[str, Any] = {"thread_ts": thread_id} if thread_id else {}
        if upload.path:
            await self._upload_file(channel, upload, extra)
            return
        await _call(
            self._client.files_upload_v2(
                channel=channel,
                filename=upload.filename,
                content=upload.content,
                title=upload.title,
                alt_txt=upload.alt_text or upload.title,
                **extra,
            )
        )

    async def _upload_file(self, channel: str, upload: Upload, extra: dict[str, Any]) -> None:
        """The external upload of a file on disk, streamed: slack_sdk's `files_upload_v2`
        reads a whole file into memory first, and an export may be a gigabyte."""
        path = Path(upload.path)
        reserved = await _call(
            self._client.files_getUploadURLExternal(
                filename=upload.filename,
                length=(await asyncio.to_thread(path.stat)).st_size,
            )  # no alt_txt: it describes images, and Slack's own types have none here
        )
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    str(reserved["upload_url"]),
                    data=_chunks(path),
                    headers={"Content-Type": upload.content_type},
                ) as response,
            ):
                if response.status != 200:
                    raise DeliveryError(f"Slack refused the file's bytes ({response.status})")
        except (TimeoutError, aiohttp.ClientError) as error:
            raise DeliveryError(
                f"no answer from Slack's upload URL ({type(error).__name__})"
            ) from error
        await _call(
            self._client.files_completeUploadExternal(
                files=[{"id": str(reserved["file_id"]), "title": upload.title}],
                channel_id=channel,
                **extra,
            )
        )


UPLOAD_CHUNK = 256 * 1024


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    """The file's bytes a chunk at a time: the upload's memory stays one chunk."""
    with path.open("rb") as handle:
        while chunk := handle.read(UPLOAD_CHUNK):
            yield chunk


def _metadata(key: str) -> dict[str, Any]:
    """Message metadata carrying the delivery key(s), space-separated (a digest has many)."""
    if not key:
        return {}
    return {"metadata": {"event_type": METADATA_EVENT, "event_payload": {"keys": key}}}


async def _call(call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    try:
        return await call
    except (TimeoutError, aiohttp.ClientError) as error:
        # The request may have reached Slack: the next attempt looks before posting.
        detail = f"no answer from Slack ({type(error).__name__})"
        raise MaybeDelivered(detail) from error
    except SlackApiError as error:
        response = error.response
        if response.status_code == 429:
            raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
            raise RetryAfter(retry_after_seconds(raw), "Slack rate limit") from error
        code = str(response.get("error", "")) if isinstance(response.data, dict) else ""
        failure = PermanentFailure if code in PERMANENT_ERRORS else DeliveryError
        raise failure(f"Slack answered {code or response.status_code}") from error
