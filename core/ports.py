"""Interfaces the core owns and `storage/` implements (repository + unit of work).

Unit tests use the in-memory fakes of `tests/fakes.py`; production uses SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol

from core.api.keys import ApiKey
from core.api.runs import ProvisionedTarget, ReportedRun
from core.delivery.model import AlertThread, Delivery, DeliveryState
from core.delivery.webhooks import Webhook
from core.domain.capabilities import Role
from core.domain.conversations import PostedMessage
from core.domain.deadman import WatchState
from core.domain.events import OutboxEvent
from core.domain.model import (
    Annotation,
    AuditEntry,
    Grant,
    Job,
    JobState,
    NewJob,
    Principal,
)
from core.domain.performance import Bound, DailyPerformance
from core.domain.quotas import QuotaUsage
from core.domain.schedules import ArchiveRecord, Draft, NewDraft, Schedule, ScheduleSpec
from core.domain.subscriptions import Destination, Subscription
from core.domain.tour import TourRecord, TourState
from core.jobs.export import ExportBatches
from core.views.performance import PerformanceChart


class JobRepository(Protocol):
    async def add(self, new_job: NewJob) -> Job:
        """Insert a queued job. Raise `Conflict("error.target_busy")` when the target
        already has a queued or running job (the storage enforces it, also across processes)."""
        ...

    async def get(self, job_id: int) -> Job | None: ...

    async def active_for_target(self, target: str) -> Job | None:
        """The queued or running job of `target`, if any."""
        ...

    async def recent(
        self,
        *,
        targets: Collection[str] | None = None,
        limit: int = 10,
    ) -> Sequence[Job]:
        """Newest first; `targets=None` means every target."""
        ...

    async def in_states(self, states: Collection[JobState]) -> Sequence[Job]: ...

    async def save(self, job: Job) -> None:
        """Persist every mutable field of `job`."""
        ...

    async def claim_next(self, targets: Collection[str], worker: str, at: datetime) -> Job | None:
        """Claim the oldest queued job of one of `targets` for `worker` (queued → running at
        `at`), or None. Processes claiming at once each get a different job (PostgreSQL: `FOR
        UPDATE SKIP LOCKED`; elsewhere the claim is a conditional update)."""
        ...

    async def confirm_start(self, job_id: int, worker: str, at: datetime) -> bool:
        """Mark that the runner of `worker` started the job (E1); False, and nothing changed,
        when the job is no longer running for `worker` (recovered and relaunched meanwhile)."""
        ...

    async def interrupt_orphan(self, job: Job, at: datetime, error: str) -> Job | None:
        """Record `job` as interrupted if it is still as it was read (same state, worker and
        start mark); None when another process changed it first, so only one recovers it."""
        ...

    async def resumes_of(self, first_job_id: int) -> int:
        """How many auto-resumed jobs continue `first_job_id` (origin auto_resume)."""
        ...


class AnnotationRepository(Protocol):
    async def add(self, annotation: Annotation) -> Annotation: ...

    async def for_job(self, job_id: int) -> Sequence[Annotation]:
        """Oldest first."""
        ...


class GrantRepository(Protocol):
    async def add(self, grant: Grant) -> None: ...

    async def remove(self, principal: Principal, role: Role, target: str | None) -> bool:
        """Delete one grant; False when there was none."""
        ...

    async def find(self, principal: Principal, role: Role, target: str | None) -> Grant | None: ...

    async def for_principal(self, principal: Principal) -> Sequence[Grant]: ...

    async def all(self) -> Sequence[Grant]: ...

    async def global_holders(self, role: Role, *, for_change: bool = False) -> Sequence[Principal]:
        """The principals holding `role` globally (target None). With `for_change`, first
        wait for any other transaction changing them (until this one ends), so two admins
        revoking each other at once cannot both see the other still there."""
        ...


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def append_many(self, entries: Sequence[AuditEntry]) -> None:
        """Several entries in one statement (the batched writer)."""
        ...

    async def recent(self, *, limit: int = 20) -> Sequence[AuditEntry]:
        """Newest first."""
        ...

    async def page(
        self,
        since: datetime,
        until: datetime,
        *,
        target: str | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int = 2000,
    ) -> Sequence[AuditEntry]:
        """Entries at [since, until) (of `target`, if given) in time order (then id), those
        after the (time, id) `after` only, at most `limit`: the next page of an export, found
        through the index on the time whatever page it is (keyset)."""
        ...

    async def count(self, since: datetime, until: datetime, *, target: str | None = None) -> int:
        """How many entries `page` would walk through."""
        ...


class ScheduleRepository(Protocol):
    async def active(self, target: str) -> Schedule | None: ...

    async def all_active(self) -> Sequence[Schedule]: ...

    async def get(self, schedule_id: int) -> Schedule | None: ...

    async def is_active(self, schedule_id: int) -> bool: ...

    async def activate(
        self, target: str, spec: ScheduleSpec, draft_id: int | None, at: datetime, by: str
    ) -> Schedule:
        """Make `spec` the target's active schedule (next version); the previous one stops."""
        ...


class ScheduleFireRepository(Protocol):
    async def record(
        self, schedule_id: int, fire_time: datetime, outcome: str, at: datetime
    ) -> bool:
        """Claim one fire; False when it was already recorded (another process, a retry)."""
        ...

    async def attach_job(self, schedule_id: int, fire_time: datetime, job_id: int) -> None: ...

    async def last(self, schedule_id: int) -> datetime | None:
        """The latest fire time recorded for the schedule, whatever its outcome."""
        ...


class DraftRepository(Protocol):
    async def add(self, new_draft: NewDraft) -> Draft: ...

    async def get(self, draft_id: int) -> Draft | None: ...

    async def open_by_author(self, target: str, author: Principal) -> Draft | None: ...

    async def open_drafts(self) -> Sequence[Draft]:
        """Every draft still open (written, submitted or sent back), oldest first."""
        ...

    async def save(self, draft: Draft) -> None:
        """Persist `draft` if its row is still at `draft.revision`, then bump the revision.
        Raise `StaleAction("error.draft_raced")` when someone else saved it in between, so
        two approvals can never both activate."""
        ...


class ArchiveRepository(Protocol):
    async def add(self, archive: ArchiveRecord) -> ArchiveRecord: ...

    async def kept(self, target: str) -> Sequence[ArchiveRecord]:
        """Archives of `target` not deleted by retention, oldest first."""
        ...

    async def mark_deleted(self, archive_id: int, at: datetime) -> None: ...

    async def growth(self, target: str, since: datetime) -> tuple[int, int]:
        """Bytes of archives created since `since`, and of archives deleted since then."""
        ...


class QuotaRepository(Protocol):
    async def get(self, target: str) -> QuotaUsage | None: ...

    async def adjust(
        self, target: str, storage: str, delta_bytes: int, delta_count: int, at: datetime
    ) -> QuotaUsage:
        """Add to the counters atomically (creating them at zero first); return the new row."""
        ...

    async def set_fired(self, target: str, fired: frozenset[int]) -> None: ...

    async def reset(
        self, target: str, storage: str, used_bytes: int, archive_count: int, at: datetime
    ) -> QuotaUsage:
        """Overwrite the counters after a recount."""
        ...


class PerformanceRepository(Protocol):
    """Jobs' durations and sizes by day (C6), and which bounds each target is outside of."""

    async def daily(
        self, since: datetime, until: datetime, targets: Collection[str] | None = None
    ) -> Sequence[DailyPerformance]:
        """Per target and UTC day of their end, the count and averages of the jobs that
        succeeded in [since, until); by target, then day. `targets=None`: every target.
        One aggregate query (GROUP BY), never a loop over jobs."""
        ...

    async def outside(self, target: str) -> frozenset[Bound]:
        """The bounds last judged crossed (empty when none, or never judged)."""
        ...

    async def set_outside(
        self, target: str, before: frozenset[Bound], after: frozenset[Bound], at: datetime
    ) -> bool:
        """Replace `before` with `after` if the stored set is still `before` (compare and
        set); False when another transaction changed it first."""
        ...


class WatchRepository(Protocol):
    """Where each `reported` target stands for its dead-man's switch (ok, missed, stuck)."""

    async def get(self, target: str) -> WatchState | None:
        """None when the target was never judged."""
        ...

    async def replace(self, target: str, before: WatchState | None, after: WatchState) -> bool:
        """Store `after` if the stored state is still `before` (None: no row yet) — compare
        and set; False when another transaction changed it first."""
        ...


class Outbox(Protocol):
    async def add(self, event: OutboxEvent) -> None: ...

    async def pending(self, *, limit: int = 50) -> Sequence[OutboxEvent]:
        """Events not fanned out yet, oldest first."""
        ...

    async def get(self, event_id: int) -> OutboxEvent | None: ...

    async def mark_fanned_out(self, event_id: int, at: datetime) -> None:
        """Its deliveries exist now (written in the same transaction)."""
        ...


class DeliveryRepository(Protocol):
    async def add_many(self, deliveries: Sequence[Delivery]) -> None:
        """Insert; a delivery already there (same event and destination) is left as it is."""
        ...

    async def claim_due(
        self, now: datetime, lease: timedelta, *, limit: int, per_destination: int
    ) -> Sequence[Delivery]:
        """Pending deliveries due by `now`, oldest event first, at most `per_destination` for
        each destination, and none for a destination with a delivery claimed or backing off
        (so each one's alerts go out in order, from one worker). They are pushed `lease` into
        the future, so no other worker takes them meanwhile; a crash lets them come due
        again."""
        ...

    async def mark_sent(self, delivery_id: int, message_id: str, at: datetime) -> None: ...

    async def mark_sent_many(self, sent: Sequence[tuple[int, str]], at: datetime) -> None:
        """`mark_sent` for many (delivery id, message id) in one statement."""
        ...

    async def retry_at(
        self, delivery_id: int, at: datetime, attempts: int, error: str, *, surely_unsent: bool
    ) -> None:
        """Try again at `at`. Unless the attempt surely posted nothing (the platform refused
        it), the next claim looks for its message first."""
        ...

    async def mark_dead(self, delivery_id: int, attempts: int, error: str) -> None: ...

    async def in_state(self, state: DeliveryState, *, limit: int = 50) -> Sequence[Delivery]: ...

    async def due(self, now: datetime, *, limit: int) -> Sequence[Delivery]:
        """Pending deliveries whose time has come (claimed ones are not, until their lease
        ends)."""
        ...

    async def revive(self, delivery_id: int, at: datetime) -> bool:
        """A dead delivery pending again with fresh attempts; False if it is not dead."""
        ...

    async def pending_by_platform(self) -> Mapping[str, int]:
        """How many deliveries wait to be sent, per platform (the outbox depth in /metrics);
        a platform with none is absent."""
        ...


class AlertThreadRepository(Protocol):
    async def get(self, destination: Destination, target: str, kind: str) -> AlertThread | None: ...

    async def save(self, thread: AlertThread) -> None:
        """Insert, or replace the one of the same destination, target and kind."""
        ...


class WebhookRepository(Protocol):
    async def add(self, webhook: Webhook) -> Webhook:
        """Insert; the same URL already there is returned as it is."""
        ...

    async def get(self, webhook_id: int) -> Webhook | None: ...

    async def by_url(self, url: str) -> Webhook | None: ...


class PostedMessageRepository(Protocol):
    async def record(self, message: PostedMessage) -> None:
        """Remember a message the bot posted; recording the same one twice is harmless."""
        ...

    async def record_many(self, messages: Sequence[PostedMessage]) -> None:
        """`record` for many, in one statement."""
        ...

    async def find(self, platform: str, channel: str, message_id: str) -> PostedMessage | None: ...

    async def for_job(self, job_id: int, platform: str) -> Sequence[PostedMessage]:
        """The job's messages on `platform`, oldest first."""
        ...

    async def for_draft(self, draft_id: int, platform: str) -> Sequence[PostedMessage]:
        """The cards of a schedule draft on `platform` (its review card where it was submitted,
        its review alerts), oldest first."""
        ...


class SubscriptionRepository(Protocol):
    async def get(self, destination: Destination, target: str) -> Subscription | None: ...

    async def for_destination(self, destination: Destination) -> Sequence[Subscription]:
        """A channel's subscriptions, by target."""
        ...

    async def for_target(self, target: str) -> Sequence[Subscription]:
        """Subscriptions to `target` and to every target (`*`)."""
        ...

    async def for_platform(self, platform: str) -> Sequence[Subscription]:
        """Every subscription sending to `platform` (all webhooks, say)."""
        ...

    async def save(self, subscription: Subscription) -> Subscription:
        """Insert, or replace the one of the same destination and target."""
        ...

    async def remove(self, destination: Destination, target: str) -> bool: ...


class ConversationReferenceRepository(Protocol):
    """Where the bot may write proactively: a platform's description of a conversation (on
    Teams: service URL, conversation, bot and tenant), kept as the platform gave it."""

    async def save(
        self, platform: str, workspace: str, key: str, reference: dict[str, Any], at: datetime
    ) -> None: ...

    async def get(self, platform: str, workspace: str, key: str) -> dict[str, Any] | None: ...


class InboundLog(Protocol):
    async def claim(self, platform: str, key: str, at: datetime) -> bool:
        """True the first time `key` (a platform's event id) is seen, False for a retry,
        also across processes sharing the database (E2)."""
        ...

    async def forget_before(self, at: datetime) -> int:
        """Drop claims older than `at` (platforms stop retrying within minutes)."""
        ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> bool:
        """Insert; False when a key of that name exists (revoked ones too: names are not
        reused, so an old signature never matches a new key)."""
        ...

    async def get(self, name: str) -> ApiKey | None: ...

    async def all(self) -> Sequence[ApiKey]:
        """By name."""
        ...

    async def revoke(self, name: str, at: datetime) -> bool:
        """False when there is no such key, or it was already revoked."""
        ...

    async def touch(self, name: str, at: datetime) -> None:
        """Record the key's last use."""
        ...


class ReportedRunRepository(Protocol):
    async def add(self, run: ReportedRun) -> bool:
        """Insert; False when the target already has a run of that client run id."""
        ...

    async def get(self, target: str, rid: str) -> ReportedRun | None: ...

    async def for_job(self, job_id: int) -> ReportedRun | None: ...

    async def save(self, run: ReportedRun) -> None:
        """Persist progress, log tail and time of an existing run."""
        ...


class ProvisionedTargetRepository(Protocol):
    async def add(self, target: ProvisionedTarget) -> bool:
        """Insert; False when it exists."""
        ...

    async def all(self) -> Sequence[ProvisionedTarget]:
        """By name."""
        ...


class TourRepository(Protocol):
    """Where each principal stands with the guided tour (D1)."""

    async def offer(self, principal: Principal, at: datetime) -> bool:
        """Record that `principal` was offered the tour: True only for the first offer ever
        (a unique insert: of two first commands at once, one wins)."""
        ...

    async def get(self, principal: Principal) -> TourRecord | None: ...

    async def end(self, principal: Principal, state: TourState, at: datetime) -> None:
        """Remember that `principal` skipped or finished the tour (recorded even when it was
        never offered: `tour` typed first)."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls back."""

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

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work. `read_only` ones take no write lock (SQLite readers run side
        by side); they may still write, but should not."""
        ...


class AuditSink(Protocol):
    """Where audit entries of read-only commands go: written soon, in batches, outside the
    command's transaction, so reading never waits for a write lock (B6)."""

    def append(self, entry: AuditEntry) -> None: ...


class JobArchive(Protocol):
    """Read-only streaming over every job, outside any unit of work (exports)."""

    def batches(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[Sequence[tuple[Job, Sequence[Annotation]]]]:
        """Jobs created in [since, until), oldest first, each with its annotations, a batch
        (one database fetch) at a time."""
        ...

    def export_batches(
        self, since: datetime, until: datetime, target: str | None = None
    ) -> ExportBatches:
        """The same jobs and notes as plain rows (core.jobs.export's JOB_FIELDS and
        NOTE_FIELDS: primitive values, times as ISO 8601 text), a batch at a time: what an
        export writes, without building a `Job` per row. With `target`, that target's only."""
        ...

    async def count(self, since: datetime, until: datetime, target: str | None = None) -> int:
        """How many jobs `export_batches` yields."""
        ...


class Charts(Protocol):
    """Performance charts (C6), drawn outside the core (bot/charts.py, matplotlib)."""

    def link(self, target: str, days: int) -> str:
        """A signed, expiring address of the target's chart ('' when the bot has none)."""
        ...

    def draw(self, chart: PerformanceChart) -> bytes:
        """The chart as a PNG. Blocking (a few tens of milliseconds): call it in a thread."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...
