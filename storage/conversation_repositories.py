"""Posted messages, handled inbound events (core/domain/conversations.py, E2) and conversation
references (where the bot may write proactively)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.conversations import PostedKind, PostedMessage
from storage.bulk import insert_if_new, insert_ignoring_duplicates
from storage.tables import ConversationReferenceRow, InboundEventRow, PostedMessageRow


def _posted(row: PostedMessageRow) -> PostedMessage:
    return PostedMessage(
        platform=row.platform,
        workspace=row.workspace,
        channel=row.channel,
        message_id=row.message_id,
        kind=PostedKind(row.kind),
        posted_at=row.posted_at,
        job_id=row.job_id,
        draft_id=row.draft_id,
        id=row.id,
    )


class SqlPostedMessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, message: PostedMessage) -> None:
        try:
            async with self._session.begin_nested():
                self._session.add(
                    PostedMessageRow(
                        platform=message.platform,
                        workspace=message.workspace,
                        channel=message.channel,
                        message_id=message.message_id,
                        kind=message.kind.value,
                        job_id=message.job_id,
                        draft_id=message.draft_id,
                        posted_at=message.posted_at,
                    )
                )
        except IntegrityError:
            pass  # already recorded (a retried post that the platform had accepted)

    async def record_many(self, messages: Sequence[PostedMessage]) -> None:
        await insert_ignoring_duplicates(
            self._session,
            cast(Table, PostedMessageRow.__table__),
            [
                {
                    "platform": m.platform,
                    "workspace": m.workspace,
                    "channel": m.channel,
                    "message_id": m.message_id,
                    "kind": m.kind.value,
                    "job_id": m.job_id,
                    "draft_id": m.draft_id,
                    "posted_at": m.posted_at,
                }
                for m in messages
            ],
        )

    async def find(self, platform: str, channel: str, message_id: str) -> PostedMessage | None:
        row = await self._session.scalar(
            select(PostedMessageRow).where(
                PostedMessageRow.platform == platform,
                PostedMessageRow.channel == channel,
                PostedMessageRow.message_id == message_id,
            )
        )
        return _posted(row) if row is not None else None

    async def for_job(self, job_id: int, platform: str) -> Sequence[PostedMessage]:
        rows = await self._session.scalars(
            select(PostedMessageRow)
            .where(PostedMessageRow.job_id == job_id, PostedMessageRow.platform == platform)
            .order_by(PostedMessageRow.id)
        )
        return [_posted(row) for row in rows]

    async def for_draft(self, draft_id: int, platform: str) -> Sequence[PostedMessage]:
        rows = await self._session.scalars(
            select(PostedMessageRow)
            .where(PostedMessageRow.draft_id == draft_id, PostedMessageRow.platform == platform)
            .order_by(PostedMessageRow.id)
        )
        return [_posted(row) for row in rows]


class SqlInboundLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, platform: str, key: str, at: datetime) -> bool:
        row = {"platform": platform, "event_key": key, "received_at": at}
        return await insert_if_new(self._session, cast(Table, InboundEventRow.__table__), row)

    async def forget_before(self, at: datetime) -> int:
        result = await self._session.execute(
            delete(InboundEventRow).where(InboundEventRow.received_at < at)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlConversationReferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _row(
        self, platform: str, workspace: str, key: str
    ) -> ConversationReferenceRow | None:
        return await self._session.scalar(
            select(ConversationReferenceRow).where(
                ConversationReferenceRow.platform == platform,
                ConversationReferenceRow.workspace == workspace,
                ConversationReferenceRow.key == key,
            )
        )

    async def save(
        self, platform: str, workspace: str, key: str, reference: dict[str, Any], at: datetime
    ) -> None:
        row = await self._row(platform, workspace, key)
        if row is None:
            try:
                async with self._session.begin_nested():
                    self._session.add(
                        ConversationReferenceRow(
                            platform=platform,
                            workspace=workspace,
                            key=key,
                            reference=reference,
                            updated_at=at,
                        )
                    )
                return
            except IntegrityError:  # saved by another process a moment ago: update it
                row = await self._row(platform, workspace, key)
                assert row is not None
        row.reference = reference
        row.updated_at = at

    async def get(self, platform: str, workspace: str, key: str) -> dict[str, Any] | None:
        row = await self._row(platform, workspace, key)
        return dict(row.reference) if row is not None else None
