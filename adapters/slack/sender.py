"""The proactive Slack sender: post, update, reply in thread, message privately, upload.

It speaks the core's `Sender` port (core/delivery.py). Slack's 429 becomes `RetryAfter` with
the `Retry-After` seconds, so the delivery pipeline can wait exactly that long; answers that
no retry can fix (channel gone, not allowed) are marked permanent.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.render import render
from core.delivery import DeliveryError, MessageRef, RetryAfter, Upload
from core.messages import Message

DEFAULT_RETRY_AFTER = 1.0
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


class SlackSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(self, channel: str, message: Message) -> MessageRef:
        answer = await _call(self._client.chat_postMessage(channel=channel, **render(message)))
        return MessageRef(str(answer["channel"]), str(answer["ts"]))

    async def update(self, ref: MessageRef, message: Message) -> MessageRef:
        await _call(
            self._client.chat_update(channel=ref.channel, ts=ref.message_id, **render(message))
        )
        return ref

    async def reply(self, parent: MessageRef, message: Message) -> MessageRef:
        answer = await _call(
            self._client.chat_postMessage(
                channel=parent.channel, thread_ts=parent.message_id, **render(message)
            )
        )
        return MessageRef(str(answer["channel"]), str(answer["ts"]), parent.message_id)

    async def private(self, user_id: str, message: Message) -> MessageRef:
        opened = await _call(self._client.conversations_open(users=user_id))
        return await self.post(str(opened["channel"]["id"]), message)

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None:
        """Slack's external upload: reserve a URL, send the bytes there, share the file."""
        extra: dict[str, Any] = {"thread_ts": thread_id} if thread_id else {}
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


async def _call(call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    try:
        return await call
    except SlackApiError as error:
        response = error.response
        if response.status_code == 429:
            raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
            seconds = float(raw) if raw and str(raw).replace(".", "", 1).isdigit() else None
            raise RetryAfter(seconds or DEFAULT_RETRY_AFTER, "Slack rate limit") from error
        code = str(response.get("error", "")) if isinstance(response.data, dict) else ""
        raise DeliveryError(
            f"Slack answered {code or response.status_code}", permanent=code in PERMANENT_ERRORS
        ) from error
