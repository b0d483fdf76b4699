"""The dead-man's switch, applied: the scheduler's leader calls `check_all` at every poll, and
each `reported` target that expects runs is judged (core/domain/deadman.py). A change is a
compare-and-set of the target's stored state plus its outbox event and audit line in one
transaction: one alert per change, whatever the restarts and however many processes check.

An approved schedule draft of a reported target replaces the configured `schedule`/`every`
(the four-eyes rule covers the expected times like any schedule); expected runs count from its
activation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from core.domain.audit import audit_entry
from core.domain.deadman import Change, Watch, WatchState, judge
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import SYSTEM_ACTOR, ExpectedRuns, Outcome, TargetKind, TargetSpec
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

_EVENTS = {
    Watch.MISSED: EventKind.RUN_MISSED,
    Watch.STUCK: EventKind.RUN_STUCK,
    Watch.OK: EventKind.RUN_RECOVERED,
}


class DeadmanWatch:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, targets: Mapping[str, TargetSpec], clock: Clock
    ) -> None:
        self._uow_factory = uow_factory
        self._targets = {
            name: spec for name, spec in targets.items() if spec.kind is TargetKind.REPORTED
        }
        self._clock = clock

    async def check_all(self) -> list[tuple[str, Change]]:
        """Judge every reported target now; the changes this call wrote."""
        changes = []
        for target in sorted(self._targets):
            try:
                change = await self.check(target)
            except Exception:  # one target's trouble must not silence the others
                log.exception("the dead-man's switch of %s could not be checked", target)
                continue
            if change is not None:
                changes.append((target, change))
        return changes

    async def check(self, target: str) -> Change | None:
        spec = self._targets.get(target)
        if spec is None:
            return None
        # Judged on a read-only unit: every poll reads, few write (on SQLite a writing unit
        # waits for the process's write gate, which chat answers need too).
        async with self._uow_factory(read_only=True) as uow:
            expected, counting_from = await _expected(uow, spec)
            if not expected.any:
                return None
            state = await uow.watches.get(target)
            recent = await uow.jobs.recent(targets=[target], limit=1) if state else ()
        now = self._clock.now()
        if state is None:  # newly watched: runs are expected from now on
            async with self._uow_factory() as uow:
                if await uow.watches.replace(target, None, WatchState(Watch.OK, now)):
                    await uow.commit()
            return None
        judged = state
        if state.status is Watch.OK and counting_from is not None:
            judged = replace(state, since=max(state.since, counting_from))
        change = judge(expected, judged, recent[0] if recent else None, now)
        if change is None:
            return None
        async with self._uow_factory() as uow:
            # The compare-and-set against the state judged: if anything changed it since, this
            # judgement is stale and another (or the next poll) decides.
            if not await uow.watches.replace(target, state, change.after):
                return None
            await _announce(uow, self._clock, target, state, change, expected)
            await uow.commit()
        log.info("%s: dead-man's switch is now %s", target, change.status.value)
        return change


async def _expected(uow: UnitOfWork, spec: TargetSpec) -> tuple[ExpectedRuns, datetime | None]:
    """The expectations in force, and when an approved schedule began to say them."""
    schedule = await uow.schedules.active(spec.name)
    if schedule is None:
        return spec.expected, None
    expected = replace(
        spec.expected, cron=schedule.spec.cron, timezone=schedule.spec.timezone, every=None
    )
    return expected, schedule.activated_at


async def _announce(
    uow: UnitOfWork,
    clock: Clock,
    target: str,
    before: WatchState,
    change: Change,
    expected: ExpectedRuns,
) -> None:
    grace = expected.grace.total_seconds()
    payload: dict[str, object] = {"reported": True, "grace_seconds": grace}
    detail = change.status.value
    if change.status is Watch.MISSED and change.expected is not None:
        payload.update(fire_time=change.expected.isoformat(), reason="no start reported")
        detail = f"no start reported for {change.expected.isoformat()}"
    elif change.status is Watch.STUCK:
        runtime = expected.max_runtime.total_seconds() if expected.max_runtime else 0
        payload.update(job=change.after.job_id, max_runtime_seconds=runtime)
        detail = f"job #{change.after.job_id} running past {runtime:.0f} s"
    else:
        payload.update(previous=before.status.value)
        detail = f"a success after {before.status.value}"
    await uow.outbox.add(OutboxEvent(_EVENTS[change.status], target, change.after.since, payload))
    await uow.audit.append(
        audit_entry(
            SYSTEM_ACTOR,
            clock,
            f"run.{'recovered' if change.status is Watch.OK else change.status.value}",
            Outcome.OK,
            target,
            change.after.job_id if change.status is Watch.STUCK else None,
            detail,
        )
    )
