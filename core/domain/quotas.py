"""Storage quotas (B4): cumulative size of kept archives per target, thresholds with hysteresis.

Usage is maintained incrementally: every archive written or deleted adjusts one counter row in
the same transaction, so nothing walks a directory per job. `quota <target> --recount`
reconciles the counter with the disk when they may have drifted (a crash, a manual delete).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.domain.events import EventKind, OutboxEvent
from core.domain.model import QuotaPolicy

if TYPE_CHECKING:  # ports name QuotaUsage in their signatures
    from core.ports import UnitOfWork

__all__ = ["QuotaPolicy", "QuotaUsage", "adjust_usage", "check_thresholds", "evaluate"]

REARM_POINTS = 10  # a threshold fires again only after usage fell this many points below it
GROWTH_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class QuotaUsage:
    target: str
    storage: str
    used_bytes: int
    archive_count: int
    fired: frozenset[int]  # thresholds crossed and not yet re-armed
    updated_at: datetime


def percent(used: int, limit: int) -> float:
    return used * 100.0 / limit if limit > 0 else 0.0


def evaluate(
    used: int, limit: int, thresholds: tuple[int, ...], fired: frozenset[int]
) -> tuple[frozenset[int], int | None]:
    """New fired set, and the highest threshold newly crossed (None: nothing to announce)."""
    level = percent(used, limit)
    rearmed = {t for t in fired if level < t - REARM_POINTS}
    crossed = {t for t in thresholds if level >= t and t not in fired}
    return frozenset((fired - rearmed) | crossed), max(crossed, default=None)


async def adjust_usage(
    uow: UnitOfWork,
    target: str,
    policy: QuotaPolicy,
    delta_bytes: int,
    delta_count: int,
    now: datetime,
) -> QuotaUsage:
    """Apply an archive written (+) or deleted (−); write a threshold event when one is crossed."""
    usage = await uow.quotas.adjust(target, policy.storage, delta_bytes, delta_count, now)
    return await check_thresholds(uow, usage, policy, now)


async def check_thresholds(
    uow: UnitOfWork, usage: QuotaUsage, policy: QuotaPolicy, now: datetime
) -> QuotaUsage:
    if policy.limit_bytes is None:
        return usage
    fired, crossed = evaluate(usage.used_bytes, policy.limit_bytes, policy.thresholds, usage.fired)
    if fired != usage.fired:
        await uow.quotas.set_fired(usage.target, fired)
    if crossed is not None:
        await uow.outbox.add(
            OutboxEvent(
                EventKind.QUOTA_THRESHOLD,
                usage.target,
                now,
                {
                    "threshold": crossed,
                    "percent": round(percent(usage.used_bytes, policy.limit_bytes), 1),
                    "used_bytes": usage.used_bytes,
                    "limit_bytes": policy.limit_bytes,
                    "storage": usage.storage,
                },
            )
        )
    return QuotaUsage(
        usage.target, usage.storage, usage.used_bytes, usage.archive_count, fired, usage.updated_at
    )


def days_until_full(used: int, limit: int, growth_per_day: float) -> float | None:
    """None when usage is not growing."""
    if growth_per_day <= 0:
        return None
    return max(0.0, (limit - used) / growth_per_day)
