"""Events written to the outbox in the same transaction as the change that caused them (C1).

The dispatcher (core/delivery/dispatcher.py) fans each one out into deliveries; `alerts pending`
lists those not fanned out yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.domain.model import Job


class EventKind(StrEnum):
    JOB_ENDED = "job.ended"
    DRAFT_SUBMITTED = "draft.submitted"
    DRAFT_DECIDED = "draft.decided"
    DRAFT_EXPIRED = "draft.expired"
    RUN_MISSED = "run.missed"
    RUN_STUCK = "run.stuck"  # a reported run started and did not finish within max_runtime
    RUN_RECOVERED = "run.recovered"  # a reported target succeeded again after missed or stuck
    QUOTA_THRESHOLD = "quota.threshold"
    PERFORMANCE_BOUND = "performance.bound"  # a target's average left one of its bounds (C6)
    DELIVERY_DEAD = "delivery.dead"  # admins are told (privately) that alerts were lost


@dataclass(frozen=True)
class OutboxEvent:
    kind: EventKind
    target: str
    created_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    delivered_at: datetime | None = None


def job_ended_event(job: Job, *, resumed_by: int | None = None) -> OutboxEvent:
    """The event every ending writes, with what an alert or a requester's DM will need;
    `resumed_by` names the job that relaunched an interrupted one automatically (E1)."""
    payload = {
        "job": job.id,
        "state": job.state.value,
        "requester": job.requester.key if job.requester else None,
        "origin": job.origin.kind.value,
        "direct": job.origin.direct,  # its ended reply already reached the person privately
        "error": job.error,
    }
    if resumed_by is not None:
        payload["resumed_by"] = resumed_by
    return OutboxEvent(EventKind.JOB_ENDED, job.target, job.finished_at or job.created_at, payload)
