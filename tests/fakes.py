"""In-memory implementations of the core's ports, for unit tests (cosmicpython style).

A `FakeStore` holds committed state; each `FakeUnitOfWork` works on a copy and publishes it on
commit, so a test sees rollbacks exactly as with a database.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

from core.api.keys import ApiKey
from core.api.runs import ProvisionedTarget, ReportedRun
from core.delivery.model import AlertThread, Delivery, DeliveryState
from core.delivery.senders import MessageRef
from core.delivery.webhooks import Webhook
from core.domain.capabilities import Role
from core.domain.conversations import PostedMessage
from core.domain.deadman import WatchState
from core.domain.events import OutboxEvent
from core.domain.model import (
    ACTIVE_STATES,
    Annotation,
    AuditEntry,
    Grant,
    Job,
    JobState,
    NewJob,
    OriginKind,
    Principal,
)
from core.domain.performance import Bound, DailyPerformance
from core.domain.quotas import QuotaUsage
from core.domain.schedules import ArchiveRecord, Draft, DraftState, NewDraft, Schedule, ScheduleSpec
from core.domain.subscriptions import Destination, Subscription
from core.domain.tour import TourRecord, TourState
from core.errors import Conflict, StaleAction
from core.jobs.export import ExportBatches, job_fields, note_fields
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
    JobArchive,
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
    UnitOfWork,
    WatchRepository,
    WebhookRepository,
)


@dataclass
class FakeState:
    jobs: dict[int, Job] = field(default_factory=dict)
    annotations: list[Annotation] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    schedules: list[tuple[Schedule, bool]] = field(default_factory=list)  # (version, active)
    drafts: dict[int, Draft] = field(default_factory=dict)
    archives: list[ArchiveRecord] = field(default_factory=list)
    outbox: list[OutboxEvent] = field(default_factory=list)
    quotas: dict[str, QuotaUsage] = field(default_factory=dict)
    performance_outside: dict[str, frozenset[Bound]] = field(default_factory=dict)
    watches: dict[str, WatchState] = field(default_factory=dict)
    fires: dict[tuple[int, datetime], tuple[str, int | None]] = field(default_factory=dict)
    posted: list[PostedMessage] = field(default_factory=list)
    inbound: dict[tuple[str, str], datetime] = field(default_factory=dict)
    subscriptions: dict[tuple[Destination, str], Subscription] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    alert_threads: dict[tuple[Destination, str, str], AlertThread] = field(default_factory=dict)
    webhooks: list[Webhook] = field(default_factory=list)
    references: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    reported_runs: dict[tuple[str, str], ReportedRun] = field(default_factory=dict)
    provisioned_targets: dict[str, ProvisionedTarget] = field(default_factory=dict)
    tours: dict[Principal, TourRecord] = field(default_factory=dict)


class FakeStore:
    def __init__(self) -> None:
        self.state = FakeState()
        self.commits = 0

    def uow(self, *, read_only: bool = False) -> FakeUnitOfWork:
        """The unit-of-work factory the core is given (read-only ones behave the same here)."""
        return FakeUnitOfWork(self)


class FakeJobs(JobRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, new_job: NewJob) -> Job:
        active = await self.active_for_target(new_job.target)
        if active is not None:
            raise Conflict("error.target_busy", target=new_job.target, job=active.id)
        job_id = max(self._s.jobs, default=0) + 1
        job = Job(
            job_id,
            new_job.target,
            JobState.QUEUED,
            new_job.origin,
            new_job.requester,
            new_job.requester_name,
            new_job.created_at,
        )
        self._s.jobs[job_id] = job
        return copy.deepcopy(job)

    async def get(self, job_id: int) -> Job | None:
        job = self._s.jobs.get(job_id)
        return copy.deepcopy(job) if job else None

    async def active_for_target(self, target: str) -> Job | None:
        for job in self._s.jobs.values():
            if job.target == target and job.state in ACTIVE_STATES:
                return copy.deepcopy(job)
        return None

    async def recent(
        self, *, targets: Collection[str] | None = None, limit: int = 10
    ) -> Sequence[Job]:
        jobs = [j for j in self._s.jobs.values() if targets is None or j.target in targets]
        return [copy.deepcopy(j) for j in sorted(jobs, key=lambda j: -j.id)[:limit]]

    async def in_states(self, states: Collection[JobState]) -> Sequence[Job]:
        return [copy.deepcopy(j) for j in self._s.jobs.values() if j.state in states]

    async def save(self, job: Job) -> None:
        if job.id not in self._s.jobs:
            raise LookupError(f"job #{job.id} does not exist")
        self._s.jobs[job.id] = copy.deepcopy(job)

    async def claim_next(self, targets: Collection[str], worker: str, at: datetime) -> Job | None:
        queued = [
            j for j in self._s.jobs.values() if j.state is JobState.QUEUED and j.target in targets
        ]
        if not queued:
            return None
        job = min(queued, key=lambda j: j.id)
        job.transition(JobState.RUNNING, at)
        job.worker = worker
        return copy.deepcopy(job)

    async def confirm_start(self, job_id: int, worker: str, at: datetime) -> bool:
        job = self._s.jobs.get(job_id)
        if job is None or job.state is not JobState.RUNNING or job.worker != worker:
            return False
        if job.run_started_at is not None:
            return False
        job.run_started_at = at
        return True

    async def interrupt_orphan(self, job: Job, at: datetime, error: str) -> Job | None:
        stored = self._s.jobs.get(job.id)
        if stored is None or (stored.state, stored.worker) != (job.state, job.worker):
            return None
        if (stored.run_started_at is None) != (job.run_started_at is None):
            return None
        stored.transition(JobState.INTERRUPTED, at)
        stored.error = stored.error or error
        return copy.deepcopy(stored)

    async def resumes_of(self, first_job_id: int) -> int:
        return sum(
            1
            for j in self._s.jobs.values()
            if j.origin.kind is OriginKind.AUTO_RESUME and j.origin.reference == str(first_job_id)
        )


class FakeAnnotations(AnnotationRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, annotation: Annotation) -> Annotation:
        saved = replace(annotation, id=len(self._s.annotations) + 1)
        self._s.annotations.append(saved)
        return saved

    async def for_job(self, job_id: int) -> Sequence[Annotation]:
        return [a for a in self._s.annotations if a.job_id == job_id]


class FakeGrants(GrantRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, grant: Grant) -> None:
        self._s.grants.append(grant)

    async def remove(self, principal: Principal, role: Role, target: str | None) -> bool:
        before = len(self._s.grants)
        self._s.grants = [
            g
            for g in self._s.grants
            if (g.principal, g.role, g.target) != (principal, role, target)
        ]
        return len(self._s.grants) < before

    async def find(self, principal: Principal, role: Role, target: str | None) -> Grant | None:
        return next(
            (
                g
                for g in self._s.grants
                if (g.principal, g.role, g.target) == (principal, role, target)
            ),
            None,
        )

    async def for_principal(self, principal: Principal) -> Sequence[Grant]:
        return [g for g in self._s.grants if g.principal == principal]

    async def all(self) -> Sequence[Grant]:
        return sorted(self._s.grants, key=lambda g: (g.principal.key, g.role.value, g.target or ""))

    async def global_holders(self, role: Role, *, for_change: bool = False) -> Sequence[Principal]:
        holders = {g.principal for g in self._s.grants if g.role is role and g.target is None}
        return sorted(holders, key=str)


class FakeAudit(AuditLog):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def append(self, entry: AuditEntry) -> None:
        self._s.audit.append(replace(entry, id=len(self._s.audit) + 1))

    async def append_many(self, entries: Sequence[AuditEntry]) -> None:
        for entry in entries:
            await self.append(entry)

    async def recent(self, *, limit: int = 20) -> Sequence[AuditEntry]:
        return list(reversed(self._s.audit))[:limit]

    async def page(
        self,
        since: datetime,
        until: datetime,
        *,
        target: str | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int = 2000,
    ) -> Sequence[AuditEntry]:
        found = sorted(self._in_period(since, until, target), key=lambda e: (e.at, e.id or 0))
        if after is not None:
            found = [e for e in found if (e.at, e.id or 0) > after]
        return found[:limit]

    async def count(self, since: datetime, until: datetime, *, target: str | None = None) -> int:
        return len(self._in_period(since, until, target))

    def _in_period(self, since: datetime, until: datetime, target: str | None) -> list[AuditEntry]:
        return [
            e
            for e in self._s.audit
            if since <= e.at < until and (target is None or e.target == target)
        ]


class FakeSchedules(ScheduleRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def active(self, target: str) -> Schedule | None:
        return next((s for s, on in self._s.schedules if on and s.target == target), None)

    async def all_active(self) -> Sequence[Schedule]:
        return sorted((s for s, on in self._s.schedules if on), key=lambda s: s.target)

    async def get(self, schedule_id: int) -> Schedule | None:
        return next((s for s, _ in self._s.schedules if s.id == schedule_id), None)

    async def is_active(self, schedule_id: int) -> bool:
        return any(s.id == schedule_id and on for s, on in self._s.schedules)

    async def activate(
        self, target: str, spec: ScheduleSpec, draft_id: int | None, at: datetime, by: str
    ) -> Schedule:
        versions = [s.version for s, _ in self._s.schedules if s.target == target]
        self._s.schedules = [(s, on and s.target != target) for s, on in self._s.schedules]
        schedule = Schedule(
            len(self._s.schedules) + 1, target, max(versions, default=0) + 1, spec, draft_id, at, by
        )
        self._s.schedules.append((schedule, True))
        return schedule


class FakeFires(ScheduleFireRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def record(
        self, schedule_id: int, fire_time: datetime, outcome: str, at: datetime
    ) -> bool:
        if (schedule_id, fire_time) in self._s.fires:
            return False
        self._s.fires[(schedule_id, fire_time)] = (outcome, None)
        return True

    async def attach_job(self, schedule_id: int, fire_time: datetime, job_id: int) -> None:
        recorded = self._s.fires.get((schedule_id, fire_time))
        if recorded is not None:  # like an UPDATE that matches no row
            self._s.fires[(schedule_id, fire_time)] = (recorded[0], job_id)

    async def last(self, schedule_id: int) -> datetime | None:
        return max((t for s, t in self._s.fires if s == schedule_id), default=None)


class FakeDrafts(DraftRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, new_draft: NewDraft) -> Draft:
        draft = Draft(
            len(self._s.drafts) + 1,
            new_draft.target,
            new_draft.author,
            new_draft.author_name,
            1,
            new_draft.spec,
            DraftState.OPEN,
            new_draft.created_at,
            new_draft.created_at,
            new_draft.expires_at,
        )
        self._s.drafts[draft.id] = draft
        return copy.deepcopy(draft)

    async def get(self, draft_id: int) -> Draft | None:
        return copy.deepcopy(self._s.drafts.get(draft_id))

    async def open_by_author(self, target: str, author: Principal) -> Draft | None:
        for draft in sorted(self._s.drafts.values(), key=lambda d: -d.id):  # newest first
            if draft.target == target and draft.author == author and draft.state.is_open:
                return copy.deepcopy(draft)
        return None

    async def open_drafts(self) -> Sequence[Draft]:
        return [copy.deepcopy(d) for d in self._s.drafts.values() if d.state.is_open]

    async def save(self, draft: Draft) -> None:
        if self._s.drafts[draft.id].revision != draft.revision:
            raise StaleAction("error.draft_raced", draft=draft.id)
        draft.revision += 1
        self._s.drafts[draft.id] = copy.deepcopy(draft)


class FakeArchives(ArchiveRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, archive: ArchiveRecord) -> ArchiveRecord:
        saved = replace(archive, id=len(self._s.archives) + 1)
        self._s.archives.append(saved)
        return saved

    async def kept(self, target: str) -> Sequence[ArchiveRecord]:
        kept = [a for a in self._s.archives if a.target == target and a.deleted_at is None]
        return sorted(kept, key=lambda a: (a.created_at, a.id))

    async def growth(self, target: str, since: datetime) -> tuple[int, int]:
        mine = [a for a in self._s.archives if a.target == target]
        added = sum(a.size_bytes for a in mine if a.created_at >= since)
        removed = sum(a.size_bytes for a in mine if a.deleted_at and a.deleted_at >= since)
        return added, removed

    async def mark_deleted(self, archive_id: int, at: datetime) -> None:
        self._s.archives = [
            replace(a, deleted_at=at) if a.id == archive_id else a for a in self._s.archives
        ]


class FakeQuotas(QuotaRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def get(self, target: str) -> QuotaUsage | None:
        return self._s.quotas.get(target)

    async def adjust(
        self, target: str, storage: str, delta_bytes: int, delta_count: int, at: datetime
    ) -> QuotaUsage:
        now = self._s.quotas.get(target) or QuotaUsage(target, storage, 0, 0, frozenset(), at)
        usage = replace(
            now,
            used_bytes=now.used_bytes + delta_bytes,
            archive_count=now.archive_count + delta_count,
            updated_at=at,
        )
        self._s.quotas[target] = usage
        return usage

    async def set_fired(self, target: str, fired: frozenset[int]) -> None:
        if target in self._s.quotas:  # no counters yet: like an UPDATE that matches no row
            self._s.quotas[target] = replace(self._s.quotas[target], fired=fired)

    async def reset(
        self, target: str, storage: str, used_bytes: int, archive_count: int, at: datetime
    ) -> QuotaUsage:
        now = self._s.quotas.get(target) or QuotaUsage(target, storage, 0, 0, frozenset(), at)
        self._s.quotas[target] = replace(
            now, used_bytes=used_bytes, archive_count=archive_count, updated_at=at
        )
        return self._s.quotas[target]


class FakePerformance(PerformanceRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def daily(
        self, since: datetime, until: datetime, targets: Collection[str] | None = None
    ) -> Sequence[DailyPerformance]:
        groups: dict[tuple[str, date], list[tuple[float, int | None]]] = {}
        for job in self._s.jobs.values():
            end, took = job.finished_at, job.duration
            if job.state is not JobState.SUCCEEDED or end is None or took is None:
                continue
            if not since <= end < until or (targets is not None and job.target not in targets):
                continue
            day = end.astimezone(UTC).date()
            groups.setdefault((job.target, day), []).append((took.total_seconds(), job.size_bytes))
        rows = []
        for (target, day), jobs in sorted(groups.items()):
            seconds = [took for took, _ in jobs]
            sizes = [size for _, size in jobs if size is not None]
            rows.append(
                DailyPerformance(
                    target,
                    day,
                    len(jobs),
                    sum(seconds) / len(jobs),
                    sum(sizes) / len(sizes) if sizes else None,
                )
            )
        return rows

    async def outside(self, target: str) -> frozenset[Bound]:
        return self._s.performance_outside.get(target, frozenset())

    async def set_outside(
        self, target: str, before: frozenset[Bound], after: frozenset[Bound], at: datetime
    ) -> bool:
        if self._s.performance_outside.get(target, frozenset()) != before:
            return False
        self._s.performance_outside[target] = after
        return True


class FakeWatches(WatchRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def get(self, target: str) -> WatchState | None:
        return self._s.watches.get(target)

    async def replace(self, target: str, before: WatchState | None, after: WatchState) -> bool:
        stored = self._s.watches.get(target)
        if (stored is None) != (before is None):
            return False
        if (
            stored is not None
            and before is not None
            and ((stored.status, stored.since) != (before.status, before.since))
        ):
            return False
        self._s.watches[target] = after
        return True


class FakeOutbox(Outbox):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, event: OutboxEvent) -> None:
        self._s.outbox.append(replace(event, id=len(self._s.outbox) + 1))

    async def pending(self, *, limit: int = 50) -> Sequence[OutboxEvent]:
        return [e for e in self._s.outbox if e.delivered_at is None][:limit]

    async def get(self, event_id: int) -> OutboxEvent | None:
        return next((e for e in self._s.outbox if e.id == event_id), None)

    async def mark_fanned_out(self, event_id: int, at: datetime) -> None:
        self._s.outbox = [
            replace(e, delivered_at=at) if e.id == event_id else e for e in self._s.outbox
        ]


class FakeDeliveries(DeliveryRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add_many(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            if any(
                (o.event_id, o.destination) == (d.event_id, d.destination)
                for o in self._s.deliveries
            ):
                continue
            self._s.deliveries.append(replace(d, id=len(self._s.deliveries) + 1))

    async def claim_due(
        self, now: datetime, lease: timedelta, *, limit: int, per_destination: int
    ) -> Sequence[Delivery]:
        pending = [d for d in self._s.deliveries if d.state is DeliveryState.PENDING]
        busy = {d.destination for d in pending if d.next_attempt_at > now}
        taken: dict[Destination, int] = {}
        due: list[Delivery] = []
        for d in sorted(pending, key=lambda d: (d.event_id, d.id or 0)):
            if d.next_attempt_at > now or d.destination in busy:
                continue
            taken[d.destination] = taken.get(d.destination, 0) + 1
            if taken[d.destination] <= per_destination and len(due) < limit:
                due.append(d)
        for d in due:  # the fake keeps the claim time where the table has `claimed_at`
            self._put(
                replace(d, next_attempt_at=now + lease, unsettled_since=d.unsettled_since or now)
            )
        return due

    async def mark_sent_many(self, sent: Sequence[tuple[int, str]], at: datetime) -> None:
        for delivery_id, message_id in sent:
            await self.mark_sent(delivery_id, message_id, at)

    async def mark_sent(self, delivery_id: int, message_id: str, at: datetime) -> None:
        self._update(
            delivery_id, state=DeliveryState.SENT, message_id=message_id, unsettled_since=None
        )

    async def retry_at(
        self, delivery_id: int, at: datetime, attempts: int, error: str, *, surely_unsent: bool
    ) -> None:
        current = next(d for d in self._s.deliveries if d.id == delivery_id)
        claimed = None if surely_unsent else current.unsettled_since
        self._update(
            delivery_id,
            next_attempt_at=at,
            attempts=attempts,
            last_error=error,
            unsettled_since=claimed,
        )

    async def mark_dead(self, delivery_id: int, attempts: int, error: str) -> None:
        self._update(
            delivery_id,
            state=DeliveryState.DEAD,
            attempts=attempts,
            last_error=error,
            unsettled_since=None,
        )

    async def in_state(self, state: DeliveryState, *, limit: int = 50) -> Sequence[Delivery]:
        return [d for d in self._s.deliveries if d.state is state][:limit]

    async def pending_by_platform(self) -> Mapping[str, int]:
        pending = [d for d in self._s.deliveries if d.state is DeliveryState.PENDING]
        return dict(Counter(d.destination.platform for d in pending))

    async def due(self, now: datetime, *, limit: int) -> Sequence[Delivery]:
        return [
            d
            for d in self._s.deliveries
            if d.state is DeliveryState.PENDING and d.next_attempt_at <= now
        ][:limit]

    async def revive(self, delivery_id: int, at: datetime) -> bool:
        current = next((d for d in self._s.deliveries if d.id == delivery_id), None)
        if current is None or current.state is not DeliveryState.DEAD:
            return False
        self._put(replace(current, state=DeliveryState.PENDING, attempts=0, next_attempt_at=at))
        return True

    def _update(self, delivery_id: int, **changes: object) -> None:
        current = next(d for d in self._s.deliveries if d.id == delivery_id)
        self._put(replace(current, **changes))  # type: ignore[arg-type]

    def _put(self, delivery: Delivery) -> None:
        self._s.deliveries = [delivery if d.id == delivery.id else d for d in self._s.deliveries]


class FakePosted(PostedMessageRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def record(self, message: PostedMessage) -> None:
        key = (message.platform, message.channel, message.message_id)
        if await self.find(*key) is None:
            self._s.posted.append(replace(message, id=len(self._s.posted) + 1))

    async def record_many(self, messages: Sequence[PostedMessage]) -> None:
        for message in messages:
            await self.record(message)

    async def find(self, platform: str, channel: str, message_id: str) -> PostedMessage | None:
        return next(
            (
                m
                for m in self._s.posted
                if (m.platform, m.channel, m.message_id) == (platform, channel, message_id)
            ),
            None,
        )

    async def for_job(self, job_id: int, platform: str) -> Sequence[PostedMessage]:
        return [m for m in self._s.posted if m.job_id == job_id and m.platform == platform]

    async def for_draft(self, draft_id: int, platform: str) -> Sequence[PostedMessage]:
        return [m for m in self._s.posted if m.draft_id == draft_id and m.platform == platform]


class FakeInbound(InboundLog):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def claim(self, platform: str, key: str, at: datetime) -> bool:
        if (platform, key) in self._s.inbound:
            return False
        self._s.inbound[(platform, key)] = at
        return True

    async def forget_before(self, at: datetime) -> int:
        old = [claim for claim, received in self._s.inbound.items() if received < at]
        for claim in old:
            del self._s.inbound[claim]
        return len(old)


class FakeSubscriptions(SubscriptionRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def get(self, destination: Destination, target: str) -> Subscription | None:
        return self._s.subscriptions.get((destination, target))

    async def for_destination(self, destination: Destination) -> Sequence[Subscription]:
        found = [s for (d, _), s in self._s.subscriptions.items() if d == destination]
        return sorted(found, key=lambda s: s.target)

    async def for_target(self, target: str) -> Sequence[Subscription]:
        return [s for s in self._s.subscriptions.values() if s.target in (target, "*")]

    async def for_platform(self, platform: str) -> Sequence[Subscription]:
        return [s for s in self._s.subscriptions.values() if s.destination.platform == platform]

    async def save(self, subscription: Subscription) -> Subscription:
        key = (subscription.destination, subscription.target)
        old = self._s.subscriptions.get(key)
        fresh = max((s.id or 0 for s in self._s.subscriptions.values()), default=0) + 1
        saved = replace(subscription, id=old.id if old else fresh)
        self._s.subscriptions[key] = saved
        return saved

    async def remove(self, destination: Destination, target: str) -> bool:
        return self._s.subscriptions.pop((destination, target), None) is not None


class FakeAlertThreads(AlertThreadRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def get(self, destination: Destination, target: str, kind: str) -> AlertThread | None:
        return self._s.alert_threads.get((destination, target, kind))

    async def save(self, thread: AlertThread) -> None:
        # The table keeps the head's channel and message id, not a thread it may sit in.
        head = MessageRef(thread.head.channel, thread.head.message_id)
        self._s.alert_threads[(thread.destination, thread.target, thread.kind)] = replace(
            thread, head=head
        )


class FakeWebhooks(WebhookRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, webhook: Webhook) -> Webhook:
        known = await self.by_url(webhook.url)
        if known is None:
            known = replace(webhook, id=len(self._s.webhooks) + 1)
            self._s.webhooks.append(known)
        return known

    async def get(self, webhook_id: int) -> Webhook | None:
        return next((w for w in self._s.webhooks if w.id == webhook_id), None)

    async def by_url(self, url: str) -> Webhook | None:
        return next((w for w in self._s.webhooks if w.url == url), None)


class FakeReferences(ConversationReferenceRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def save(
        self, platform: str, workspace: str, key: str, reference: dict[str, Any], at: datetime
    ) -> None:
        self._s.references[(platform, workspace, key)] = dict(reference)

    async def get(self, platform: str, workspace: str, key: str) -> dict[str, Any] | None:
        found = self._s.references.get((platform, workspace, key))
        return dict(found) if found is not None else None


class FakeApiKeys(ApiKeyRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, key: ApiKey) -> bool:
        if key.name in self._s.api_keys:
            return False
        self._s.api_keys[key.name] = key
        return True

    async def get(self, name: str) -> ApiKey | None:
        return self._s.api_keys.get(name)

    async def all(self) -> Sequence[ApiKey]:
        return [self._s.api_keys[name] for name in sorted(self._s.api_keys)]

    async def revoke(self, name: str, at: datetime) -> bool:
        key = self._s.api_keys.get(name)
        if key is None or key.revoked:
            return False
        self._s.api_keys[name] = replace(key, revoked_at=at)
        return True

    async def touch(self, name: str, at: datetime) -> None:
        key = self._s.api_keys.get(name)
        if key is not None:
            self._s.api_keys[name] = replace(key, last_used_at=at)


class FakeReportedRuns(ReportedRunRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, run: ReportedRun) -> bool:
        if (run.target, run.rid) in self._s.reported_runs:
            return False
        self._s.reported_runs[(run.target, run.rid)] = run
        return True

    async def get(self, target: str, rid: str) -> ReportedRun | None:
        return self._s.reported_runs.get((target, rid))

    async def for_job(self, job_id: int) -> ReportedRun | None:
        return next((r for r in self._s.reported_runs.values() if r.job_id == job_id), None)

    async def save(self, run: ReportedRun) -> None:
        old = self._s.reported_runs.get((run.target, run.rid))
        if old is None:
            raise LookupError(f"no reported run {run.rid} of {run.target}")
        # As the table: only progress, tail and time change.
        self._s.reported_runs[(run.target, run.rid)] = replace(
            old,
            bytes_done=run.bytes_done,
            files_done=run.files_done,
            percent=run.percent,
            log_tail=run.log_tail,
            updated_at=run.updated_at,
        )


class FakeProvisionedTargets(ProvisionedTargetRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def add(self, target: ProvisionedTarget) -> bool:
        if target.name in self._s.provisioned_targets:
            return False
        self._s.provisioned_targets[target.name] = target
        return True

    async def all(self) -> Sequence[ProvisionedTarget]:
        return [self._s.provisioned_targets[n] for n in sorted(self._s.provisioned_targets)]


class FakeTours(TourRepository):
    def __init__(self, state: FakeState) -> None:
        self._s = state

    async def offer(self, principal: Principal, at: datetime) -> bool:
        if principal in self._s.tours:
            return False
        self._s.tours[principal] = TourRecord(principal, TourState.OFFERED, at, at)
        return True

    async def get(self, principal: Principal) -> TourRecord | None:
        return self._s.tours.get(principal)

    async def end(self, principal: Principal, state: TourState, at: datetime) -> None:
        await self.offer(principal, at)
        self._s.tours[principal] = replace(self._s.tours[principal], state=state, updated_at=at)


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def __aenter__(self) -> FakeUnitOfWork:
        self._open(copy.deepcopy(self._store.state))
        return self

    def _open(self, state: FakeState) -> None:
        """Work on `state` from now on: every repository sees it."""
        self._state = state
        self.jobs = FakeJobs(self._state)
        self.annotations = FakeAnnotations(self._state)
        self.grants = FakeGrants(self._state)
        self.audit = FakeAudit(self._state)
        self.schedules = FakeSchedules(self._state)
        self.fires = FakeFires(self._state)
        self.drafts = FakeDrafts(self._state)
        self.archives = FakeArchives(self._state)
        self.quotas = FakeQuotas(self._state)
        self.performance = FakePerformance(self._state)
        self.watches = FakeWatches(self._state)
        self.outbox = FakeOutbox(self._state)
        self.posted = FakePosted(self._state)
        self.inbound = FakeInbound(self._state)
        self.subscriptions = FakeSubscriptions(self._state)
        self.deliveries = FakeDeliveries(self._state)
        self.alert_threads = FakeAlertThreads(self._state)
        self.webhooks = FakeWebhooks(self._state)
        self.references = FakeReferences(self._state)
        self.api_keys = FakeApiKeys(self._state)
        self.reported_runs = FakeReportedRuns(self._state)
        self.provisioned_targets = FakeProvisionedTargets(self._state)
        self.tours = FakeTours(self._state)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        self._store.state = copy.deepcopy(self._state)
        self._store.commits += 1

    async def rollback(self) -> None:
        self._open(copy.deepcopy(self._store.state))


class FakeJobArchive(JobArchive):
    """The job archive over a fake store's committed state, `batch` jobs at a time."""

    def __init__(self, store: FakeStore, *, batch: int = 2000) -> None:
        self._store = store
        self._batch = batch

    def _jobs(self, since: datetime, until: datetime, target: str | None) -> list[Job]:
        jobs = sorted(self._store.state.jobs.values(), key=lambda j: j.id)
        return [
            j
            for j in jobs
            if since <= j.created_at < until and (target is None or j.target == target)
        ]

    def _notes(self, job_id: int) -> list[Annotation]:
        return [a for a in self._store.state.annotations if a.job_id == job_id]

    async def batches(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[Sequence[tuple[Job, Sequence[Annotation]]]]:
        jobs = self._jobs(since, until, None)
        for start in range(0, len(jobs), self._batch):
            yield [(j, self._notes(j.id)) for j in jobs[start : start + self._batch]]

    async def export_batches(
        self, since: datetime, until: datetime, target: str | None = None
    ) -> ExportBatches:
        jobs = self._jobs(since, until, target)
        for start in range(0, len(jobs), self._batch):
            yield [
                (job_fields(j), [note_fields(a) for a in self._notes(j.id)])
                for j in jobs[start : start + self._batch]
            ]

    async def count(self, since: datetime, until: datetime, target: str | None = None) -> int:
        return len(self._jobs(since, until, target))
