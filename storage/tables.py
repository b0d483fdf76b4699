"""Tables (SQLAlchemy 2 typed declarative). Only `storage/` sees rows; the core, dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The states in which a job holds its target; the partial unique index below keeps one such
# job per target, across every process sharing the database.
ACTIVE_STATES_SQL = "state IN ('queued', 'running')"
# The jobs `stats` and the performance bounds average (C6): the partial index below holds only
# them, with every column the aggregate reads, so it is answered from the index alone.
SUCCEEDED_SQL = "state = 'succeeded'"


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite forgets time zones, PostgreSQL needn't care."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite returns text for raw SQL reads
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    origin_kind: Mapped[str] = mapped_column(String(16))
    origin_platform: Mapped[str] = mapped_column(String(32), default="")
    origin_workspace: Mapped[str] = mapped_column(String(128), default="")
    origin_channel: Mapped[str] = mapped_column(String(256), default="")
    origin_reference: Mapped[str] = mapped_column(String(256), default="")
    origin_channel_name: Mapped[str] = mapped_column(String(256), default="", server_default="")
    origin_direct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    requester: Mapped[str | None] = mapped_column(String(300))
    requester_name: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_count: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    archive_path: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(300))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The runner's confirmation that it started (E1); `started_at` is the claim.
    run_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(
            "uq_jobs_one_active_per_target",
            "target",
            unique=True,
            sqlite_where=text(ACTIVE_STATES_SQL),
            postgresql_where=text(ACTIVE_STATES_SQL),
        ),
        Index("ix_jobs_target_id", "target", "id"),
        Index("ix_jobs_created_at", "created_at"),
        Index("ix_jobs_state", "state"),
        Index(
            "ix_jobs_performance",
            "target",
            "finished_at",
            "started_at",
            "size_bytes",
            sqlite_where=text(SUCCEEDED_SQL),
            postgresql_where=text(SUCCEEDED_SQL),
        ),
    )


class AnnotationRow(Base):
    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(300))
    author_name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    link: Mapped[str] = mapped_column(Text, default="")


class GrantRow(Base):
    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(300), index=True)
    role: Mapped[str] = mapped_column(String(32))
    # '' means every target: NULLs are never equal, so they would defeat the unique constraint.
    scope: Mapped[str] = mapped_column(String(64), default="")
    granted_by: Mapped[str] = mapped_column(String(300))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("principal", "role", "scope", name="uq_grants_principal_role_scope"),
    )


class AuditRow(Base):
    """Append-only: the repository offers no update and no delete."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(300))
    actor_name: Mapped[str] = mapped_column(String(256))
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the log outlives what it names
    detail: Mapped[str] = mapped_column(Text, default="")


class ScheduleRow(Base):
    """Every activated version of a target's schedule; one active per target."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    cron: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64))
    keep_count: Mapped[int | None] = mapped_column(Integer)
    keep_days: Mapped[int | None] = mapped_column(Integer)
    exclude: Mapped[list[str]] = mapped_column(JSON)
    draft_id: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[str] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("target", "version", name="uq_schedules_target_version"),
        Index(
            "uq_schedules_one_active_per_target",
            "target",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(300))
    author_name: Mapped[str] = mapped_column(String(256))
    version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)  # compare-and-set token, bumped on save
    state: Mapped[str] = mapped_column(String(24), index=True)
    cron: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64))
    keep_count: Mapped[int | None] = mapped_column(Integer)
    keep_days: Mapped[int | None] = mapped_column(Integer)
    exclude: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DecisionRow(Base):
    __tablename__ = "draft_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(300))
    reviewer_name: Mapped[str] = mapped_column(String(256))
    verdict: Mapped[str] = mapped_column(String(16))
    draft_version: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArchiveRow(Base):
    """An archive written by a job; `deleted_at` once retention removed it (kept for history)."""

    __tablename__ = "archives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(Integer, index=True)
    target: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_archives_target_created_at", "target", "created_at"),)


class OutboxRow(Base):
    """Events written with the change that caused them; the dispatcher delivers them."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class QuotaUsageRow(Base):
    """One counter row per target, adjusted with every archive written or deleted."""

    __tablename__ = "quota_usage"

    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    storage: Mapped[str] = mapped_column(String(64))
    used_bytes: Mapped[int] = mapped_column(BigInteger)
    archive_count: Mapped[int] = mapped_column(Integer)
    fired: Mapped[list[int]] = mapped_column(JSON)  # thresholds crossed, not yet re-armed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PerformanceStateRow(Base):
    """Per target, the performance bounds its averages were last judged outside of (C6), so
    a crossing alerts once, also across a restart."""

    __tablename__ = "performance_state"

    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    outside: Mapped[str] = mapped_column(String(200))  # bound names, sorted, comma-separated
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WatchStateRow(Base):
    """Per `reported` target, where its dead-man's switch stands (ok, missed, stuck) and
    since when: each change is a compare-and-set on this row, so it alerts once."""

    __tablename__ = "watch_state"

    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # ok | missed | stuck
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TourRow(Base):
    """Per principal, where the guided tour stands (D1): offered, skipped or finished. The
    key is the principal, so the first offer is a unique insert: offered once."""

    __tablename__ = "tours"

    principal: Mapped[str] = mapped_column(String(300), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # offered | skipped | finished
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScheduleFireRow(Base):
    """One row per (schedule, fire time): the idempotency key of scheduled runs and misses."""

    __tablename__ = "schedule_fires"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(Integer)
    fire_time: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))  # started | missed | skipped
    job_id: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_fires_schedule_id"),
    )


class PostedMessageRow(Base):
    """A message the bot posted (job, alert, draft, note), by the platform's id for it."""

    __tablename__ = "posted_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(256))
    message_id: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[int | None] = mapped_column(Integer, index=True)
    draft_id: Mapped[int | None] = mapped_column(Integer)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "platform", "channel", "message_id", name="uq_posted_messages_platform_channel"
        ),
    )


class InboundEventRow(Base):
    """Platform event ids already handled: a retried delivery must not act twice (E2)."""

    __tablename__ = "inbound_events"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SubscriptionRow(Base):
    """A channel's alerts for one target (or '*'): kinds and the lowest severity (C1)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(256))
    target: Mapped[str] = mapped_column(String(64), index=True)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    min_severity: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "platform", "workspace", "channel", "target", name="uq_subscriptions_destination"
        ),
    )


class DeliveryRow(Base):
    """One outbox event on its way to one destination; unique, so fan-out can be repeated."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(256))
    private: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(String(256), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when claimed; cleared when an attempt surely failed. Still set at the next claim:
    # the last attempt may have posted before a crash, so the sender looks for it first.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "event_id", "platform", "workspace", "channel", name="uq_deliveries_event_id"
        ),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        # A destination's waiting deliveries, looked up by every claim.
        Index("ix_deliveries_destination", "platform", "workspace", "channel", "state"),
    )


class AlertThreadRow(Base):
    """The first alert of a (target, kind) at a destination: repeats within the grouping
    window reply in its thread, and it is edited to show how many there were (C1)."""

    __tablename__ = "alert_threads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(256))
    target: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int] = mapped_column(Integer)  # the first alert's event, to redraw it
    message_channel: Mapped[str] = mapped_column(String(256))
    message_id: Mapped[str] = mapped_column(String(256))
    count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "platform", "workspace", "channel", "target", "kind", name="uq_alert_threads_key"
        ),
    )


class WebhookRow(Base):
    """An outbound webhook (A5). The URL is a secret: only this table holds it."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    format: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)  # so one URL is one row
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationReferenceRow(Base):
    """Where the bot can write without being asked (Teams proactive messages): a channel,
    chat or person it has seen, as the platform described it (service URL, ids)."""

    __tablename__ = "conversation_references"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(512))  # conversation id, or "user:<id>" for 1:1
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("platform", "workspace", "key", name="uq_conversation_references_key"),
    )


class ApiKeyRow(Base):
    """A job-event API key: never its secret, which is derived (core/api/keys.py)."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    targets: Mapped[list[str]] = mapped_column(JSON)
    may_create: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiRunRow(Base):
    """A run reported through the API: its client run id, the job it is, what was told."""

    __tablename__ = "api_runs"

    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    rid: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    key_name: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255), default="")
    command: Mapped[str] = mapped_column(Text, default="")
    bytes_done: Mapped[int | None] = mapped_column(BigInteger)
    files_done: Mapped[int | None] = mapped_column(BigInteger)
    percent: Mapped[float | None] = mapped_column(Float)
    log_tail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProvisionedTargetRow(Base):
    """A `reported` target an API key created by reporting to it (auto-provisioning)."""

    __tablename__ = "provisioned_targets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
