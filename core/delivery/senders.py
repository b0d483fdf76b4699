"""What the core expects of a platform's proactive sender (posting outside a request).

The delivery pipeline (C1) calls a `Sender` per destination; a sender turns a platform's
rate-limit answer into `RetryAfter`, which the pipeline honours before trying again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.delivery.sender_keys import SenderKey
from core.views.message import Message

__all__ = [
    "DeliveryError",
    "MaybeDelivered",
    "MessageRef",
    "PermanentFailure",
    "RetryAfter",
    "Sender",
    "SenderKey",
    "Upload",
    "retry_after_seconds",
]


class DeliveryError(Exception):
    """A message could not be delivered, and trying again may help (a 5xx, an outage).

    The root of one tree; what else is known about a failure is its type, never a flag:
    `PermanentFailure` (no retry can fix it), `MaybeDelivered` (the platform may have posted
    it all the same), `RetryAfter` (the platform named a wait)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def permanent(self) -> bool:
        """Not worth retrying (read-only: the type says it)."""
        return isinstance(self, PermanentFailure)

    @property
    def maybe_sent(self) -> bool:
        """The message may be out there: ask the platform before posting it again."""
        return isinstance(self, MaybeDelivered)


class PermanentFailure(DeliveryError):
    """No retry can fix it: the channel is gone, the bot may not post there, the platform
    cannot do what was asked (a webhook cannot edit)."""


class MaybeDelivered(DeliveryError):
    """Sent, but the outcome is unknown (a timeout, a dropped connection): the platform may
    have posted it all the same, so a retry first asks for the delivery's key."""


DEFAULT_RETRY_AFTER = 1.0  # seconds, when a 429 names no usable wait
MAX_RETRY_AFTER = 3600.0  # a receiver asking for more (or for `inf`) is not obeyed past this


def retry_after_seconds(raw: object, default: float = DEFAULT_RETRY_AFTER) -> float:
    """A `Retry-After` (a header's text or a JSON number) as a wait that can be honoured:
    finite and from 0 to an hour; anything unreadable (`²`, `nan`, `inf`) is `default`.
    Webhook receivers are strangers: their answer must not stall or crash the dispatcher."""
    try:
        seconds = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(seconds):
        return default
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class RetryAfter(DeliveryError):
    """The platform asked us to wait `seconds` before the next call (HTTP 429)."""

    def __init__(self, seconds: float, detail: str = "rate limited") -> None:
        seconds = retry_after_seconds(seconds)
        super().__init__(f"{detail}; retry after {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True)
class MessageRef:
    """A message the platform accepted: where it is and its id (Slack: channel + ts)."""

    channel: str
    message_id: str
    thread_id: str = ""


@dataclass(frozen=True)
class Upload:
    """A file to post: its bytes, or (`path`, for a large export) a file the sender streams."""

    filename: str
    content: bytes
    title: str
    alt_text: str = ""
    path: str = ""  # set: read from this file, in chunks, instead of `content`
    content_type: str = "application/octet-stream"


class Sender(Protocol):
    """`key` is the delivery's idempotency key: a sender stores it with the message where the
    platform allows (Slack message metadata, a Discord nonce, a webhook header), and `recall`
    finds the message by it after a crash, so a retry does not post twice."""

    edits: bool  # `update` works (a webhook that returns no message id cannot)
    threads: bool  # `reply` works

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef: ...

    async def recall(
        self, channel: str, key: str, since: datetime, *, thread_id: str = ""
    ) -> MessageRef | None:
        """The message posted with `key` since `since` (in the thread `thread_id`, if given),
        if any and if the platform can tell."""
        ...

    async def update(self, ref: MessageRef, message: Message) -> MessageRef: ...

    async def reply(self, parent: MessageRef, message: Message, *, key: str = "") -> MessageRef:
        """Post in the thread (reply chain) of `parent`."""
        ...

    async def private(self, user_id: str, message: Message, *, key: str = "") -> MessageRef:
        """A direct message to one user of the sender's workspace."""
        ...

    async def recall_private(self, user_id: str, key: str, since: datetime) -> MessageRef | None:
        """`recall` for direct messages."""
        ...

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None: ...

    async def locale_of(self, user_id: str) -> str:
        """The language a person reads their direct messages in ("en" when unknown)."""
        ...
