"""A reported run: the job it is, and what the outside tool told of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ReportedRun:
    """One run reported through the API, found again by its target and client run id."""

    target: str
    rid: str
    job_id: int
    key_name: str
    host: str = ""
    command: str = ""
    bytes_done: int | None = None
    files_done: int | None = None
    percent: float | None = None
    log_tail: str = ""  # redacted before it is kept
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ProvisionedTarget:
    """A `reported` target created by a key allowed to (auto-provisioning)."""

    name: str
    created_by: str
    created_at: datetime
