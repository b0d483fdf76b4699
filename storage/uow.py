"""The unit of work: one session, one transaction; leaving without `commit()` rolls back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.ports import (
    AnnotationRepository,
    ArchiveRepository,
    AuditLog,
    DraftRepository,
    GrantRepository,
    InboundLog,
    JobRepository,
    Outbox,
    PostedMessageRepository,
    QuotaRepository,
    ScheduleFireRepository,
    ScheduleRepository,
)
from storage.conversation_repositories import SqlInboundLog, SqlPostedMessageRepository
from storage.quota_repository import SqlQuotaRepository
from storage.repositories import (
    SqlAnnotationRepository,
    SqlAuditLog,
    SqlGrantRepository,
    SqlJobRepository,
)
from storage.schedule_repositories import (
    SqlArchiveRepository,
    SqlDraftRepository,
    SqlOutbox,
    SqlScheduleFireRepository,
    SqlScheduleRepository,
)


class SqlUnitOfWork:
    # Typed as the core's ports: the protocol's attributes are mutable, hence invariant.
    jobs: JobRepository
    annotations: AnnotationRepository
    grants: GrantRepository
    audit: AuditLog
    schedules: ScheduleRepository
    fires: ScheduleFireRepository
    drafts: DraftRepository
    archives: ArchiveRepository
    quotas: QuotaRepository
    outbox: Outbox
    posted: PostedMessageRepository
    inbound: InboundLog

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> SqlUnitOfWork:
        self._session = self._sessions()
        self.jobs = SqlJobRepository(self._session)
        self.annotations = SqlAnnotationRepository(self._session)
        self.grants = SqlGrantRepository(self._session)
        self.audit = SqlAuditLog(self._session)
        self.schedules = SqlScheduleRepository(self._session)
        self.fires = SqlScheduleFireRepository(self._session)
        self.drafts = SqlDraftRepository(self._session)
        self.archives = SqlArchiveRepository(self._session)
        self.quotas = SqlQuotaRepository(self._session)
        self.outbox = SqlOutbox(self._session)
        self.posted = SqlPostedMessageRepository(self._session)
        self.inbound = SqlInboundLog(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._session.rollback()  # a no-op after commit
        finally:
            await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
