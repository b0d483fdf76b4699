"""Rows ↔ core dataclasses, in one place."""

from __future__ import annotations

from core.capabilities import Role
from core.model import (
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


def job_from_row(row: JobRow) -> Job:
    return Job(
        id=row.id,
        target=row.target,
        state=JobState(row.state),
        origin=Origin(
            OriginKind(row.origin_kind),
            row.origin_platform,
            row.origin_workspace,
            row.origin_channel,
            row.origin_reference,
        ),
        requester=Principal.parse(row.requester) if row.requester else None,
        requester_name=row.requester_name,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        file_count=row.file_count,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        archive_path=row.archive_path,
        error=row.error,
        worker=row.worker,
        cancel_requested=row.cancel_requested,
        heartbeat_at=row.heartbeat_at,
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


def annotation_from_row(row: AnnotationRow) -> Annotation:
    return Annotation(
        id=row.id,
        job_id=row.job_id,
        kind=AnnotationKind(row.kind),
        text=row.text,
        author=Principal.parse(row.author),
        author_name=row.author_name,
        created_at=row.created_at,
        link=row.link,
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
