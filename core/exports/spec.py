"""What an `audit` export holds: which rows (jobs or actions), which period, which target and
which format; and the file that came out of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from core.jobs.export import ExportFormat


class ExportWhat(StrEnum):
    JOBS = "jobs"  # every job of the period (core/jobs/export.py)
    ACTIONS = "actions"  # the action log (B6): who did what, where, when, with which outcome


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/json",
    ExportFormat.NDJSON: "application/x-ndjson",
}


@dataclass(frozen=True)
class ExportSpec:
    """An export: rows created in [since, until), of one target or all (None)."""

    what: ExportWhat
    fmt: ExportFormat
    since: datetime
    until: datetime
    target: str | None = None

    @property
    def filename(self) -> str:
        """`exportbot-jobs-2026-11-01-2026-11-30.csv`: what it holds, readable in a folder."""
        end = (self.until - timedelta(microseconds=1)).date()  # `until` is excluded
        scope = f"-{self.target}" if self.target else ""
        return (
            f"exportbot-{self.what.value}{scope}-{self.since.date().isoformat()}-"
            f"{end.isoformat()}.{self.fmt.value}"
        )


@dataclass(frozen=True)
class StoredExport:
    """A finished export file in the store."""

    export_id: str
    path: Path
    filename: str
    content_type: str
    size: int
    rows: int
    expires_at: datetime
