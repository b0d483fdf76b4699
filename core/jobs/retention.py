"""Retention: after a successful job, archives beyond the active policy are deleted (B5).

The rows are marked deleted in the job's closing transaction; the files are removed after the
commit, so a crash in between leaves a file too many (found by `quota --recount`), never a
recorded archive whose file is gone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime

from core.domain.audit import audit_entry
from core.domain.model import SYSTEM_ACTOR, Outcome, QuotaPolicy
from core.domain.quotas import adjust_usage
from core.domain.schedules import ArchiveRecord, prune_candidates
from core.ports import Clock, UnitOfWork

log = logging.getLogger(__name__)


async def apply_retention(
    uow: UnitOfWork, target: str, now: datetime, clock: Clock, quota: QuotaPolicy
) -> list[ArchiveRecord]:
    """Mark the archives the active retention no longer keeps, and take them off the quota;
    return them (their files are still there)."""
    schedule = await uow.schedules.active(target)
    if schedule is None:
        return []
    doomed = prune_candidates(list(await uow.archives.kept(target)), schedule.spec.retention, now)
    for archive in doomed:
        await uow.archives.mark_deleted(archive.id, now)
        await uow.audit.append(
            audit_entry(
                SYSTEM_ACTOR,
                clock,
                "archive.deleted",
                Outcome.OK,
                target,
                archive.job_id,
                f"{archive.path} ({archive.size_bytes} bytes)",
            )
        )
    if doomed:
        freed = sum(archive.size_bytes for archive in doomed)
        await adjust_usage(uow, target, quota, -freed, -len(doomed), now)
    return doomed


def remove_files(archives: Sequence[ArchiveRecord]) -> None:
    """Delete the files of archives already marked deleted (called in a worker thread)."""
    for archive in archives:
        try:
            os.unlink(archive.path)
        except FileNotFoundError:
            pass  # already gone: the record is what matters
        except OSError as error:
            log.warning("could not delete %s: %s", archive.path, error.strerror)
