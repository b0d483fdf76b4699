"""The dead-man's switch under any order of checks, starts and ends (hypothesis): its alerts
always tell a coherent story — `recovered` only after `missed` or `stuck`, never the same
trouble twice before a recovery — and a recovery follows a success."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.clock import FrozenClock
from core.domain.events import EventKind
from core.domain.model import (
    ExpectedRuns,
    JobState,
    NewJob,
    Origin,
    OriginKind,
    TargetKind,
    TargetSpec,
)
from core.jobs.deadman import DeadmanWatch
from tests.fakes import FakeStore

START = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
NAMES = {
    EventKind.RUN_MISSED: "missed",
    EventKind.RUN_STUCK: "stuck",
    EventKind.RUN_RECOVERED: "recovered",
}
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(1, 36 * 60)),  # minutes
        st.tuples(st.just("start"), st.just(0)),
        st.tuples(st.just("succeed"), st.just(0)),
        st.tuples(st.just("fail"), st.just(0)),
    ),
    max_size=40,
)
EXPECTATIONS = st.sampled_from(
    [
        ExpectedRuns(cron="0 3 * * *", grace=timedelta(minutes=30)),
        ExpectedRuns(cron="*/20 * * * *", grace=timedelta(0), max_runtime=timedelta(hours=1)),
        ExpectedRuns(every=timedelta(hours=6), grace=timedelta(minutes=5)),
        ExpectedRuns(max_runtime=timedelta(minutes=90)),
    ]
)


async def _apply(store: FakeStore, at: datetime, step: str) -> None:
    async with store.uow() as uow:
        active = await uow.jobs.active_for_target("db")
        if step == "start" and active is None:
            job = await uow.jobs.add(NewJob("db", Origin(OriginKind.API), None, "cron", at))
            job.transition(JobState.RUNNING, at)
            await uow.jobs.save(job)
        elif step in ("succeed", "fail") and active is not None:
            active.transition(JobState.SUCCEEDED if step == "succeed" else JobState.FAILED, at)
            await uow.jobs.save(active)
        await uow.commit()


@settings(max_examples=300, deadline=None)
@given(expected=EXPECTATIONS, steps=STEPS)
async def test_the_alerts_always_tell_a_coherent_story(
    expected: ExpectedRuns, steps: list[tuple[str, int]]
) -> None:
    store, clock = FakeStore(), FrozenClock(START)
    watch = DeadmanWatch(
        store.uow, {"db": TargetSpec("db", TargetKind.REPORTED, expected=expected)}, clock
    )
    succeeded_since_trouble = False
    await watch.check_all()
    for step, minutes in steps:
        if step == "wait":
            clock.advance(timedelta(minutes=minutes))
        else:
            await _apply(store, clock.now(), step)
            succeeded_since_trouble |= step == "succeed"
        before = len(store.state.outbox)
        await watch.check_all()
        await watch.check_all()  # a second look at the same moment changes nothing
        new = [NAMES[e.kind] for e in store.state.outbox[before:]]
        assert len(new) <= 1, new  # one change a moment: a recovery is not missed at once
        if "recovered" in new:
            assert succeeded_since_trouble
        if new and new[-1] != "recovered":
            succeeded_since_trouble = False
    story = [NAMES[e.kind] for e in store.state.outbox]
    trouble: set[str] = set()
    for said in story:
        if said == "recovered":
            assert trouble, story  # only after missed or stuck
            trouble = set()
        else:
            assert said not in trouble, story  # the same trouble is told once
            trouble.add(said)
    if expected.max_runtime is None:
        assert "stuck" not in story
    if not expected.expects_starts:
        assert "missed" not in story
