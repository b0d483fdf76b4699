"""Posting alerts to webhook URLs (A5): one `WebhookSender` per format, speaking the core's
`Sender` port (core/delivery/senders.py).

The URL is a secret (its path or query carries the token), so the sender resolves it from the
webhook's id at each send and only `shown_url` of it ever reaches an error message; errors
from aiohttp are not chained, since their text may hold the whole URL. Answers map to what
the delivery pipeline needs: 429 → `RetryAfter`; what a retry may fix (5xx, time-outs,
dropped connections, Teams' 412) → transient; the rest of 4xx → permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from adapters.webhooks.guard import RefusedDestination, refusal_of
from adapters.webhooks.render import Renderers, encode, payload
from core.delivery.senders import (
    DEFAULT_RETRY_AFTER,
    DeliveryError,
    MaybeDelivered,
    MessageRef,
    PermanentFailure,
    RetryAfter,
    Sender,
    SenderKey,
    Upload,
)
from core.delivery.webhooks import WebhookFormat, shown_url, webhook_sender_key
from core.views.message import Message

Resolve = Callable[[str], Awaitable[str | None]]

MAX_ANSWER_BYTES = 64 * 1024  # of a receiver's answer read; all a sender needs is at its start
USER_AGENT = "exportbot-webhook/1"
NO_SECRET = "no webhook secret configured (EXPORTBOT_WEBHOOK_SECRET)"
# Workflows answer 412 when the flow is briefly unavailable; Microsoft says retry it.
RETRYABLE_STATUSES = {WebhookFormat.TEAMS: frozenset({408, 412})}
DEFAULT_RETRYABLE = frozenset({408})


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class WebhookSender:
    """Sends to webhooks of one format; `channel` is always the webhook's id."""

    edits: bool = False
    threads: bool = False

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fmt: WebhookFormat,
        resolve: Resolve,
        *,
        renderers: Renderers,
        secret: bytes = b"",
        timeout: float = 10.0,
    ) -> None:
        if fmt is not WebhookFormat.JSON and fmt not in renderers:
            raise ValueError(f"no renderer for {fmt} webhooks")
        self.format = fmt
        # Only Discord answers with a message id (thanks to `?wait=true`) and lets us edit it.
        self.edits = fmt is WebhookFormat.DISCORD
        self._session = session
        self._resolve = resolve
        self._renderers = renderers
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef:
        if self.format is WebhookFormat.JSON and not self._secret:
            raise PermanentFailure(NO_SECRET)
        url = await self._url(channel)
        if self.format is WebhookFormat.DISCORD:
            # `wait=true` makes Discord answer with the message (and its id) instead of 204.
            url = _with_query(url, "wait=true")
        answer = await self._send("POST", url, self._body(message, key), key)
        return MessageRef(channel, _message_id(answer) if self.edits else "")

    async def recall(
        self, channel: str, key: str, since: datetime, *, thread_id: str = ""
    ) -> MessageRef | None:
        return None  # a webhook cannot look its messages up

    async def update(self, ref: MessageRef, message: Message) -> MessageRef:
        if not self.edits:
            raise PermanentFailure(f"{self.format} webhooks cannot edit a message")
        if not ref.message_id:
            raise PermanentFailure("the webhook gave no message id to edit")
        url = _with_path(await self._url(ref.channel), f"messages/{ref.message_id}")
        await self._send("PATCH", url, self._body(message), "")
        return ref

    async def reply(self, parent: MessageRef, message: Message, *, key: str = "") -> MessageRef:
        raise PermanentFailure(f"{self.format} webhooks cannot reply in a thread")

    async def private(self, user_id: str, message: Message, *, key: str = "") -> MessageRef:
        raise PermanentFailure("webhooks cannot send private messages")

    async def recall_private(self, user_id: str, key: str, since: datetime) -> MessageRef | None:
        return None

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None:
        raise PermanentFailure("webhooks cannot upload files")

    async def locale_of(self, user_id: str) -> str:
        return "en"  # a webhook has no people, only a channel

    def _body(self, message: Message, key: str = "") -> dict[str, Any]:
        return payload(self.format, message, key, renderers=self._renderers)

    async def _url(self, webhook_id: str) -> str:
        url = await self._resolve(webhook_id)
        if url is None:
            raise PermanentFailure(f"webhook {webhook_id} was removed")
        return url

    async def _send(self, method: str, url: str, body: dict[str, Any], key: str) -> _Answer:
        raw = encode(body)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if self.format is WebhookFormat.JSON:
            headers.update(signed_headers(self._secret, raw, key))
        shown = shown_url(url)
        try:
            # No redirects: a webhook that moves is misconfigured, and following one could
            # carry the alert to a host nobody checked.
            async with self._session.request(
                method,
                url,
                data=raw,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                start = await _read_at_most(response, MAX_ANSWER_BYTES)
                answer = _Answer(response.status, dict(response.headers), start)
        # `from None` below: aiohttp's messages may contain the URL, and tracebacks get logged.
        except TimeoutError:
            # It may have arrived all the same (`MaybeDelivered`); webhooks can't be asked.
            detail = f"{self.format} webhook {shown} timed out"
            raise MaybeDelivered(detail) from None
        except aiohttp.InvalidURL:
            raise PermanentFailure(f"webhook {shown} has no valid URL") from None
        except (RefusedDestination, aiohttp.ClientError) as error:
            refusal = refusal_of(error)
            if refusal is not None:  # the session's guard (adapters/webhooks/guard.py)
                detail = f"{self.format} webhook {shown} refused: {refusal.value} address"
                raise PermanentFailure(detail) from None
            detail = f"{self.format} webhook {shown} unreachable ({type(error).__name__})"
            raise MaybeDelivered(detail) from None
        failure = self._failure(answer, shown)
        if failure is not None:
            raise failure
        return answer

    def _failure(self, answer: _Answer, shown: str) -> DeliveryError | None:
        status = answer.status
        if 200 <= status < 300:
            return None
        where = f"{self.format} webhook {shown}"
        if status == 429:
            return RetryAfter(_retry_after(answer), f"{where} rate limited")
        retryable = RETRYABLE_STATUSES.get(self.format, DEFAULT_RETRYABLE)
        transient = status >= 500 or status in retryable
        reason = _reason(answer.body)
        detail = f"{where} answered {status}" + (f" ({reason})" if reason else "")
        return DeliveryError(detail) if transient else PermanentFailure(detail)


def signed_headers(secret: bytes, raw: bytes, key: str) -> dict[str, str]:
    """The job-event API's scheme: HMAC-SHA256 over "<timestamp>.<body>", so a receiver can
    check both origin and freshness; the delivery key lets it drop repeats."""
    timestamp = str(int(time.time()))
    digest = hmac.new(secret, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {"X-Exportbot-Timestamp": timestamp, "X-Exportbot-Signature": f"sha256={digest}"}
    if key:
        headers["X-Exportbot-Delivery"] = key
    return headers


def webhook_senders(
    session: aiohttp.ClientSession,
    resolve: Resolve,
    secret: bytes,
    renderers: Renderers,
    timeout: float = 10.0,
) -> dict[SenderKey, Sender]:
    """A sender per format, keyed like destinations: "webhook:slack", "webhook:discord"…

    Our JSON format is always there; the platforms' formats are those `renderers` draws (each
    platform's package renders its own webhook body, and the composition root hands them in).
    """
    formats = [fmt for fmt in WebhookFormat if fmt is WebhookFormat.JSON or fmt in renderers]
    return {
        webhook_sender_key(fmt): WebhookSender(
            session, fmt, resolve, renderers=renderers, secret=secret, timeout=timeout
        )
        for fmt in formats
    }


def _with_query(url: str, query: str) -> str:
    parts = urlsplit(url)
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit(parts._replace(query=joined))


def _with_path(url: str, tail: str) -> str:
    """Discord's edit URL: the webhook path + `/messages/<id>`, its query (thread) kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{tail}"))


def _message_id(answer: _Answer) -> str:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return ""
    return str(body.get("id", "")) if isinstance(body, dict) else ""


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The start of an answer: all a sender needs is a message id or an error code, and a
    receiver that streams forever must not hold the delivery (or the memory) hostage."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(16_384):
        chunks.append(chunk[: limit - size])
        size += len(chunk)
        if size >= limit:
            response.close()  # the rest is not wanted: drop the connection, not the pool
            break
    return b"".join(chunks)


def _retry_after(answer: _Answer) -> float:
    """Discord's JSON `retry_after` (precise), else the `Retry-After` header (seconds or a
    date), else one second."""
    try:
        body = json.loads(answer.body)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return max(float(body["retry_after"]), 0.0)
    header = next((v for k, v in answer.headers.items() if k.lower() == "retry-after"), "")
    try:
        return max(float(header), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(header).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def _reason(body: bytes) -> str:
    """A platform's error code, when it gives one: Slack's `no_service` as text, Discord's
    numeric `code`, a Workflows `error.code`. Never free text, which might echo the URL."""
    text = body[:4096].decode("utf-8", "replace").strip()
    if _is_code(text):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    code = data.get("code")
    if code is None and isinstance(data.get("error"), dict):
        code = data["error"].get("code")
    return str(code) if code is not None and _is_code(str(code)) else ""


def _is_code(text: str) -> bool:
    return 0 < len(text) <= 64 and all(c.isascii() and (c.isalnum() or c in "_.-") for c in text)
