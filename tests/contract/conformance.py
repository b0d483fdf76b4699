"""Both implementations of every repository port, checked against core/ports.py by mypy.

The fakes subclass their Protocol (tests/fakes.py); the SQL repositories are plain classes
that `storage/uow.py` builds by name, so nothing else would tell mypy they must match. This
module is never run for its result: type-checking it is the test.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core import ports
from storage import SqlJobArchive, SqlUnitOfWorkFactory
from storage.alert_repositories import SqlAlertThreadRepository, SqlWebhookRepository
from storage.archive_repository import SqlArchiveRepository
from storage.audit_writer import BatchedAuditWriter
from storage.conversation_repositories import (
    SqlConversationReferenceRepository,
    SqlInboundLog,
    SqlPostedMessageRepository,
)
from storage.delivery_repository import SqlDeliveryRepository
from storage.outbox_repository import SqlOutbox
from storage.quota_repository import SqlQuotaRepository
from storage.repositories import (
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
from tests.fakes import FakeStore


def sql_repositories_match_the_ports(session: AsyncSession, engine: AsyncEngine) -> None:
    """Each assignment fails type-checking when a SQL repository drifts from its port."""
    jobs: ports.JobRepository = SqlJobRepository(session)
    annotations: ports.AnnotationRepository = SqlAnnotationRepository(session)
    grants: ports.GrantRepository = SqlGrantRepository(session)
    audit: ports.AuditLog = SqlAuditLog(session)
    schedules: ports.ScheduleRepository = SqlScheduleRepository(session)
    fires: ports.ScheduleFireRepository = SqlScheduleFireRepository(session)
    drafts: ports.DraftRepository = SqlDraftRepository(session)
    archives: ports.ArchiveRepository = SqlArchiveRepository(session)
    quotas: ports.QuotaRepository = SqlQuotaRepository(session)
    outbox: ports.Outbox = SqlOutbox(session)
    posted: ports.PostedMessageRepository = SqlPostedMessageRepository(session)
    inbound: ports.InboundLog = SqlInboundLog(session)
    subscriptions: ports.SubscriptionRepository = SqlSubscriptionRepository(session)
    deliveries: ports.DeliveryRepository = SqlDeliveryRepository(session)
    alert_threads: ports.AlertThreadRepository = SqlAlertThreadRepository(session)
    webhooks: ports.WebhookRepository = SqlWebhookRepository(session)
    references: ports.ConversationReferenceRepository = SqlConversationReferenceRepository(session)
    factory: ports.UnitOfWorkFactory = SqlUnitOfWorkFactory(engine)
    uow: ports.UnitOfWork = factory()
    archive: ports.JobArchive = SqlJobArchive(engine)
    sink: ports.AuditSink = BatchedAuditWriter(factory)
    del jobs, annotations, grants, audit, schedules, fires, drafts, archives, quotas, outbox
    del posted, inbound, subscriptions, deliveries, alert_threads, webhooks, references
    del uow, archive, sink


def the_fake_store_is_a_unit_of_work_factory(store: FakeStore) -> ports.UnitOfWorkFactory:
    return store.uow
