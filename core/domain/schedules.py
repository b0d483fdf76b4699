"""Schedules, their drafts and the four-eyes review (B5), and the retention they carry.

A schedule change is a `Draft`: written by one person, submitted, and activated only when
enough *other* people with the `approve` capability approved its *current* version.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.model import Principal
from core.errors import Conflict, PermissionDenied, StaleAction


@dataclass(frozen=True)
class Retention:
    """How many archives to keep: the newest `keep_count`, or those younger than `keep_days`.

    Neither set means keep everything. The newest successful archive is always kept.
    """

    keep_count: int | None = None
    keep_days: int | None = None


@dataclass(frozen=True)
class ScheduleSpec:
    cron: str
    timezone: str
    retention: Retention = Retention()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """One activated version of a target's schedule; exactly one is active per target."""

    id: int
    target: str
    version: int
    spec: ScheduleSpec
    draft_id: int | None
    activated_at: datetime
    activated_by: str


class DraftState(StrEnum):
    OPEN = "open"  # being written, not yet submitted
    SUBMITTED = "submitted"  # awaiting review
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"  # activated
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in OPEN_DRAFT_STATES


OPEN_DRAFT_STATES = frozenset({DraftState.OPEN, DraftState.SUBMITTED, DraftState.CHANGES_REQUESTED})


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CHANGES = "changes"


@dataclass(frozen=True)
class Decision:
    reviewer: Principal
    reviewer_name: str
    verdict: Verdict
    draft_version: int
    at: datetime
    comment: str = ""


@dataclass
class Draft:
    id: int
    target: str
    author: Principal
    author_name: str
    version: int
    spec: ScheduleSpec
    state: DraftState
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    decisions: list[Decision] = field(default_factory=list)
    revision: int = 0  # concurrency token for storage; `version` is what reviewers see

    def approvals(self) -> list[Decision]:
        """Approvals of the current version only: an edit voids the earlier ones."""
        return [
            d
            for d in self.decisions
            if d.verdict is Verdict.APPROVE and d.draft_version == self.version
        ]

    def edit(self, spec: ScheduleSpec, at: datetime, ttl: timedelta) -> None:
        self._require_open()
        self.spec = spec
        self.version += 1
        self.updated_at = at
        self.expires_at = at + ttl

    def submit(self, at: datetime, ttl: timedelta) -> None:
        self._require_open()
        if self.state is DraftState.SUBMITTED:
            raise Conflict("error.draft_already_submitted", draft=self.id)
        self.state = DraftState.SUBMITTED
        self.updated_at = at
        self.expires_at = at + ttl

    def decide(self, decision: Decision, expected_version: int | None, quorum: int) -> bool:
        """Record a decision; True when it completes the quorum (the caller activates)."""
        if not self.state.is_open:
            raise Conflict("error.draft_closed", draft=self.id, state=self.state.value)
        if expected_version is not None and expected_version != self.version:
            raise StaleAction(
                "error.draft_changed", draft=self.id, seen=expected_version, now=self.version
            )
        if self.state is not DraftState.SUBMITTED:
            raise Conflict("error.draft_not_submitted", draft=self.id)
        if decision.reviewer == self.author:
            raise PermissionDenied("error.own_draft", draft=self.id)
        if any(d.reviewer == decision.reviewer for d in self.approvals()):
            raise Conflict("error.already_approved", draft=self.id, version=self.version)
        self.decisions.append(replace(decision, draft_version=self.version))
        self.updated_at = decision.at
        if decision.verdict is Verdict.REJECT:
            self.state = DraftState.REJECTED
        elif decision.verdict is Verdict.CHANGES:
            self.state = DraftState.CHANGES_REQUESTED
        elif len(self.approvals()) >= quorum:
            self.state = DraftState.APPROVED
            return True
        return False

    def withdraw(self, at: datetime) -> None:
        self._require_open()
        self.state = DraftState.WITHDRAWN
        self.updated_at = at

    def expire_if_due(self, now: datetime) -> bool:
        if self.state.is_open and now >= self.expires_at:
            self.state = DraftState.EXPIRED
            self.updated_at = now
            return True
        return False

    def _require_open(self) -> None:
        if not self.state.is_open:
            raise Conflict("error.draft_closed", draft=self.id, state=self.state.value)


@dataclass(frozen=True)
class NewDraft:
    target: str
    author: Principal
    author_name: str
    spec: ScheduleSpec
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ArchiveRecord:
    """An archive a job wrote; `deleted_at` is set once retention removed it."""

    id: int
    job_id: int
    target: str
    path: str
    size_bytes: int
    created_at: datetime
    deleted_at: datetime | None = None


def prune_candidates(
    archives: list[ArchiveRecord], retention: Retention, now: datetime
) -> list[ArchiveRecord]:
    """The kept archives `retention` would delete, oldest first. Never the newest one."""
    kept = sorted((a for a in archives if a.deleted_at is None), key=lambda a: a.created_at)
    if not kept:
        return []
    newest = kept[-1]
    doomed: dict[int, ArchiveRecord] = {}
    if retention.keep_count is not None:
        for archive in kept[: max(0, len(kept) - retention.keep_count)]:
            doomed[archive.id] = archive
    if retention.keep_days is not None:
        cutoff = now - timedelta(days=retention.keep_days)
        for archive in kept:
            if archive.created_at < cutoff:
                doomed[archive.id] = archive
    doomed.pop(newest.id, None)
    return sorted(doomed.values(), key=lambda a: a.created_at)
