"""Rows ↔ core dataclasses, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from core.domain.capabilities import Role
from core.domain.model import (
    Annotation,
    AnnotationKind,
    AuditEntry,
    Grant,
    Job,
    JobState,
    Origin,
    OriginKind,
    Outcome,
    Principal,
)
from storage.tables import AnnotationRow, AuditRow, GrantRow, JobRow

# The columns a streamed read selects, in the order `job_from_values` unpacks them.
JOB_COLUMNS = (
    JobRow.id, JobRow.target, JobRow.state, JobRow.origin_kind, JobRow.origin_platform,
    JobRow.origin_workspace, JobRow.origin_channel, JobRow.origin_reference, JobRow.requester,
    JobRow.requester_name, JobRow.created_at, JobRow.started_at, JobRow.finished_at,
    JobRow.file_count, JobRow.size_bytes, JobRow.sha256, JobRow.archive_path, JobRow.error,
    JobRow.worker, JobRow.cancel_requested, JobRow.heartbeat_at, JobRow.origin_channel_name,
    JobRow.origin_direct, JobRow.run_started_at,
)  # fmt: skip
ANNOTATION_COLUMNS = (
    AnnotationRow.id, AnnotationRow.job_id, AnnotationRow.kind, AnnotationRow.text,
    AnnotationRow.author, AnnotationRow.author_name, AnnotationRow.created_at, AnnotationRow.link,
)  # fmt: skip


# Exports map a million rows: a dict lookup is several times cheaper than an Enum call, and
# the same few people request most jobs (principals are frozen, so sharing them is safe).
_STATES = {state.value: state for state in JobState}
_ORIGIN_KINDS = {kind.value: kind for kind in OriginKind}
_ANNOTATION_KINDS = {kind.value: kind for kind in AnnotationKind}
_principal = lru_cache(maxsize=4096)(Principal.parse)


def job_from_row(row: JobRow) -> Job:
    return job_from_values([getattr(row, column.key) for column in JOB_COLUMNS])


def job_from_values(values: Sequence[Any]) -> Job:
    """A job from the values of JOB_COLUMNS, in that order (a Core row: no ORM object)."""
    (
        job_id, target, state, origin_kind, platform, workspace, channel, reference, requester,
        requester_name, created_at, started_at, finished_at, file_count, size_bytes, sha256,
        archive_path, error, worker, cancel_requested, heartbeat_at, channel_name, direct,
        run_started_at,
    ) = values  # fmt: skip
    return Job(
        id=job_id,
        target=target,
        state=_STATES[state],
        origin=Origin(
            _ORIGIN_KINDS[origin_kind],
            platform,
            workspace,
            channel,
            reference,
            channel_name,
            bool(direct),
        ),
        requester=_principal(requester) if requester else None,
        requester_name=requester_name,
        created_at=created_at,
        started_at=started_at,
        finished_at=finished_at,
        file_count=file_count,
        size_bytes=size_bytes,
        sha256=sha256,
        archive_path=archive_path,
        error=error,
        worker=worker,
        cancel_requested=cancel_requested,
        heartbeat_at=heartbeat_at,
        run_started_at=run_started_at,
    )


def copy_job_to_row(job: Job, row: JobRow) -> None:
    """The fields a job changes after creation."""
    row.state = job.state.value
    row.started_at = job.started_at
    row.finished_at = job.finished_at
    row.file_count = job.file_count
    row.size_bytes = job.size_bytes
    row.sha256 = job.sha256
    row.archive_path = job.archive_path
    row.error = job.error
    row.worker = job.worker
    row.cancel_requested = job.cancel_requested
    row.heartbeat_at = job.heartbeat_at
    row.run_started_at = job.run_started_at


def annotation_from_row(row: AnnotationRow) -> Annotation:
    return annotation_from_values([getattr(row, column.key) for column in ANNOTATION_COLUMNS])


def annotation_from_values(values: Sequence[Any]) -> Annotation:
    """An annotation from the values of ANNOTATION_COLUMNS, in that order."""
    note_id, job_id, kind, text, author, author_name, created_at, link = values
    return Annotation(
        id=note_id,
        job_id=job_id,
        kind=_ANNOTATION_KINDS[kind],
        text=text,
        author=_principal(author),
        author_name=author_name,
        created_at=created_at,
        link=link,
    )


def grant_from_row(row: GrantRow) -> Grant:
    return Grant(
        principal=Principal.parse(row.principal),
        role=Role(row.role),
        target=row.scope or None,
        granted_by=row.granted_by,
        granted_at=row.granted_at,
    )


def audit_from_row(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        actor_name=row.actor_name,
        platform=row.platform,
        workspace=row.workspace,
        channel=row.channel,
        action=row.action,
        outcome=Outcome(row.outcome),
        target=row.target,
        job_id=row.job_id,
        detail=row.detail,
    )
