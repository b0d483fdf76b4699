"""After each successful job, its target's averages against its performance bounds (C6).

A job-ended subscriber (bot/bootstrap.py): a crossing writes one `performance` event in its own
transaction, which the dispatcher then sends like any alert. Evaluating after the job's end,
not inside it, keeps a slow aggregate out of the transaction that records the end; a crash in
between only delays the judgement to the next job's end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from core.domain.model import Job, JobState, TargetSpec
from core.domain.performance import BoundsCrossed, check_bounds
from core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


class PerformanceWatch:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, targets: Mapping[str, TargetSpec], clock: Clock
    ) -> None:
        self._uow_factory = uow_factory
        self._targets = targets
        self._clock = clock

    async def job_ended(self, job: Job) -> None:
        await self.check(job.target, job.id if job.state is JobState.SUCCEEDED else None)

    async def check(self, target: str, job_id: int | None = None) -> BoundsCrossed | None:
        """Judge `target` now; the crossing, if this call wrote its event."""
        spec = self._targets.get(target)
        if spec is None or not spec.performance.any:
            return None
        async with self._uow_factory() as uow:
            crossed = await check_bounds(uow, target, spec.performance, self._clock.now(), job_id)
            await uow.commit()
        if crossed is not None:
            log.info("%s crossed its performance bounds: %s", target, sorted(crossed.bounds))
        return crossed
