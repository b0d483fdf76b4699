"""The unit of work: one session, one transaction; leaving without `commit()` rolls back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.ports import (
    AlertThreadRepository,
    AnnotationRepository,
    ApiKeyRepository,
    ArchiveRepository,
    AuditLog,
    ConversationReferenceRepository,
    DeliveryRepository,
    DraftRepository,
    GrantRepository,
    InboundLog,
    JobRepository,
    Outbox,
    PerformanceRepository,
    PostedMessageRepository,
    ProvisionedTargetRepository,
    QuotaRepository,
    ReportedRunRepository,
    ScheduleFireRepository,
    ScheduleRepository,
    SubscriptionRepository,
    TourRepository,
    WatchRepository,
    WebhookRepository,
)
from storage.alert_repositories import SqlAlertThreadRepository, SqlWebhookRepository
from storage.api_repositories import (
    SqlApiKeyRepository,
    SqlProvisionedTargetRepository,
    SqlReportedRunRepository,
)
from storage.archive_repository import SqlArchiveRepository
from storage.conversation_repositories import (
    SqlConversationReferenceRepository,
    SqlInboundLog,
    SqlPostedMessageRepository,
)
from storage.database import READ_ONLY_OPTION, is_sqlite
from storage.delivery_repository import SqlDeliveryRepository
from storage.outbox_repository import SqlOutbox
from storage.performance_repository import SqlPerformanceRepository
from storage.quota_repository import SqlQuotaRepository
from storage.repositories import (
    GrantCache,
    SqlAnnotationRepository,
    SqlAuditLog,
    SqlGrantRepository,
    SqlJobRepository,
)
from storage.schedule_repositories import (
    SqlDraftRepository,
    SqlScheduleFireRepository,
    SqlScheduleRepository,
)
from storage.subscription_repository import SqlSubscriptionRepository
from storage.tour_repository import SqlTourRepository
from storage.watch_repository import SqlWatchRepository


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
    performance: PerformanceRepository
    watches: WatchRepository
    outbox: Outbox
    posted: PostedMessageRepository
    inbound: InboundLog
    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository
    alert_threads: AlertThreadRepository
    webhooks: WebhookRepository
    references: ConversationReferenceRepository
    api_keys: ApiKeyRepository
    reported_runs: ReportedRunRepository
    provisioned_targets: ProvisionedTargetRepository
    tours: TourRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        write_gate: asyncio.Lock | None,
        grant_cache: GrantCache,
    ) -> None:
        self._sessions = sessions
        self._write_gate = write_gate
        self._grant_cache = grant_cache

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._write_gate is not None:
            await self._write_gate.acquire()
        self._session: AsyncSession | None = None
        self._grants: SqlGrantRepository | None = None
        return self

    def __getattr__(self, name: str) -> object:
        """Repositories (and the session under them) are made on first use: `help` and
        other answers that read nothing never pay for them."""
        make = _REPOSITORIES.get(name)
        if make is None or name.startswith("_"):
            raise AttributeError(name)
        if self._session is None:
            self._session = self._sessions()
        repository = (
            SqlGrantRepository(self._session, self._grant_cache)
            if make is SqlGrantRepository
            else make(self._session)
        )
        if isinstance(repository, SqlGrantRepository):
            self._grants = repository
        setattr(self, name, repository)
        return repository

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # A session that never began a transaction (help) or has committed holds no
            # connection: skip the round trips through SQLAlchemy's greenlet bridge.
            if self._session is not None and self._session.in_transaction():
                try:
                    await self._session.rollback()
                finally:
                    await self._session.close()
        finally:
            if self._write_gate is not None:
                self._write_gate.release()

    async def commit(self) -> None:
        if self._session is not None and self._session.in_transaction():
            await self._session.commit()
        if self._grants is not None and self._grants.changed:
            self._grant_cache.clear()

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()


_REPOSITORIES: dict[str, Callable[[AsyncSession], object]] = {
    "jobs": SqlJobRepository,
    "annotations": SqlAnnotationRepository,
    "grants": SqlGrantRepository,
    "audit": SqlAuditLog,
    "schedules": SqlScheduleRepository,
    "fires": SqlScheduleFireRepository,
    "drafts": SqlDraftRepository,
    "archives": SqlArchiveRepository,
    "quotas": SqlQuotaRepository,
    "performance": SqlPerformanceRepository,
    "watches": SqlWatchRepository,
    "outbox": SqlOutbox,
    "posted": SqlPostedMessageRepository,
    "inbound": SqlInboundLog,
    "alert_threads": SqlAlertThreadRepository,
    "webhooks": SqlWebhookRepository,
    "references": SqlConversationReferenceRepository,
    "subscriptions": SqlSubscriptionRepository,
    "deliveries": SqlDeliveryRepository,
    "api_keys": SqlApiKeyRepository,
    "reported_runs": SqlReportedRunRepository,
    "provisioned_targets": SqlProvisionedTargetRepository,
    "tours": SqlTourRepository,
}


class SqlUnitOfWorkFactory:
    """Units of work on one engine.

    SQLite has one writer at a time; left to its busy handler, writers sleep and retry
    (up to 100 ms a try, in no fair order), which put 1.5 s tails on acks under load. Here
    writers of this process queue on an asyncio lock instead (FIFO, no sleeping), and
    read-only units take no write lock at all (BEGIN DEFERRED, WAL readers run side by side).
    PostgreSQL needs neither.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(
            engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
        )
        self._write_gate = asyncio.Lock() if is_sqlite(engine) else None
        self._grant_cache = GrantCache()

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        if read_only:
            return SqlUnitOfWork(self._read_sessions, None, self._grant_cache)
        return SqlUnitOfWork(self._sessions, self._write_gate, self._grant_cache)
