"""Alert threads (grouping repeats) and outbound webhooks.

The rules are in core/delivery/model.py and core/delivery/webhooks.py.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.delivery.model import AlertThread
from core.delivery.senders import MessageRef
from core.delivery.webhooks import Webhook, WebhookFormat
from core.domain.subscriptions import Destination
from storage.tables import AlertThreadRow, WebhookRow


class SqlAlertThreadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _row(self, where: Destination, target: str, kind: str) -> AlertThreadRow | None:
        return await self._session.scalar(
            select(AlertThreadRow).where(
                AlertThreadRow.platform == where.platform,
                AlertThreadRow.workspace == where.workspace,
                AlertThreadRow.channel == where.channel,
                AlertThreadRow.target == target,
                AlertThreadRow.kind == kind,
            )
        )

    async def get(self, destination: Destination, target: str, kind: str) -> AlertThread | None:
        row = await self._row(destination, target, kind)
        if row is None:
            return None
        return AlertThread(
            destination,
            target,
            kind,
            row.event_id,
            MessageRef(row.message_channel, row.message_id),
            row.count,
            row.last_at,
        )

    async def save(self, thread: AlertThread) -> None:
        where = thread.destination
        row = await self._row(where, thread.target, thread.kind)
        if row is None:
            row = AlertThreadRow(
                platform=where.platform,
                workspace=where.workspace,
                channel=where.channel,
                target=thread.target,
                kind=thread.kind,
            )
            self._session.add(row)
        row.event_id = thread.event_id
        row.message_channel = thread.head.channel
        row.message_id = thread.head.message_id
        row.count = thread.count
        row.last_at = thread.last_at
        await self._session.flush()


def _hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _webhook(row: WebhookRow) -> Webhook:
    return Webhook(WebhookFormat(row.format), row.url, row.created_by, row.created_at, row.id)


class SqlWebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, webhook: Webhook) -> Webhook:
        known = await self.by_url(webhook.url)
        if known is not None:
            return known
        row = WebhookRow(
            format=webhook.format.value,
            url=webhook.url,
            url_hash=_hash(webhook.url),
            created_by=webhook.created_by,
            created_at=webhook.created_at,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:  # added by another process a moment ago
            raced = await self.by_url(webhook.url)
            assert raced is not None
            return raced
        return _webhook(row)

    async def get(self, webhook_id: int) -> Webhook | None:
        row = await self._session.get(WebhookRow, webhook_id)
        return _webhook(row) if row else None

    async def by_url(self, url: str) -> Webhook | None:
        row = await self._session.scalar(
            select(WebhookRow).where(WebhookRow.url_hash == _hash(url))
        )
        return _webhook(row) if row else None
