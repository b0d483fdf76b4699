"""A running job's messages are edited in place with its progress (C4): the real executor,
real storage (SQLite, and PostgreSQL when configured), and a sender that records its calls."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from core.clock import SystemClock
from core.delivery.pacing import Pace, Pacer
from core.delivery.sender_keys import SenderKey
from core.delivery.senders import (
    MessageRef,
    PermanentFailure,
    RetryAfter,
    Upload,
)
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.model import (
    Job,
    JobState,
    NewJob,
    Origin,
    OriginKind,
    Principal,
    TargetKind,
    TargetSpec,
)
from core.domain.subscriptions import Destination
from core.jobs.executor import JobExecutor
from core.jobs.progress import ProgressEditor
from core.jobs.runners import CancelToken, Progress, ProgressCallback, RunCancelled, RunResult
from core.views.message import Message
from storage import SqlUnitOfWorkFactory

TEAM = "T0EXPORT"
EVERY, TICK = 0.3, 0.05
TARGETS = {
    name: TargetSpec(name, TargetKind.ARCHIVE, source=f"/srv/{name}", archive_dir="/tmp/a")
    for name in ("demo", "site-a")
}


def roomy() -> Pacer:
    """A pace that is never the limit, so a test sees the editor's own spacing."""
    return Pacer({"slack": Pace(100.0, 100)})


@dataclass
class Call:
    at: float
    ref: MessageRef
    message: Message
    done: float = 0.0  # when the platform answered


@dataclass
class RecordingSender:
    """Records every `update`, with its times; `failures` scripts what the next calls raise,
    and an update to a channel with a gate waits (in flight) until the gate opens."""

    edits: bool = True
    threads: bool = True
    updates: list[Call] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)  # channel → raises
    gates: dict[str, asyncio.Event] = field(default_factory=dict)  # channel → in flight until
    locales: dict[str, str] = field(default_factory=dict)  # user → language

    async def update(self, ref: MessageRef, message: Message) -> MessageRef:
        call = Call(time.monotonic(), ref, message)
        self.updates.append(call)
        gate = self.gates.get(ref.channel)
        if gate is not None:
            await gate.wait()
        call.done = time.monotonic()
        pending = self.failures.get(ref.channel)
        if pending:
            raise pending.pop(0)
        return ref

    def to(self, channel: str) -> list[Call]:
        return [c for c in self.updates if c.ref.channel == channel]

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef:
        raise AssertionError("progress only edits")

    async def locale_of(self, user_id: str) -> str:
        return self.locales.get(user_id, "en")

    async def recall(
        self, channel: str, key: str, since: datetime, *, thread_id: str = ""
    ) -> MessageRef | None:
        return None

    async def reply(self, parent: MessageRef, message: Message, *, key: str = "") -> MessageRef:
        raise AssertionError("progress only edits")

    async def private(self, user_id: str, message: Message, *, key: str = "") -> MessageRef:
        raise AssertionError("progress only edits")

    async def recall_private(self, user_id: str, key: str, since: datetime) -> MessageRef | None:
        return None

    async def upload(self, channel: str, upload: Upload, *, thread_id: str = "") -> None:
        raise AssertionError("progress only edits")


class SteadyRunner:
    """Archives one file every 20 ms until told to finish (or cancelled)."""

    def __init__(self) -> None:
        self.finish = threading.Event()

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        files = 0
        while not self.finish.wait(0.02):
            if token.cancelled:
                raise RunCancelled(token.reason)
            files += 1
            progress(Progress(files, files * 100_000))
        return RunResult(file_count=files, size_bytes=files * 1000)


@dataclass
class World:
    uow_factory: SqlUnitOfWorkFactory
    executor: JobExecutor
    runners: dict[str, SteadyRunner]
    sender: RecordingSender
    ended_at: dict[int, float] = field(default_factory=dict)

    async def start(
        self, target: str, *channels: str, workspace: str = TEAM, user: str = "U0ADMIN"
    ) -> int:
        """Queue a job, record its posted card in each channel, and launch it."""
        async with self.uow_factory() as uow:
            job = await uow.jobs.add(
                NewJob(
                    target,
                    Origin(OriginKind.USER, "slack", workspace, channels[0]),
                    Principal("slack", workspace, user),
                    "Alice",
                    SystemClock().now(),
                )
            )
            for channel in channels:
                await uow.posted.record(
                    PostedMessage(
                        "slack",
                        workspace,
                        channel,
                        f"17000000{job.id}.0001",
                        PostedKind.JOB,
                        SystemClock().now(),
                        job_id=job.id,
                    )
                )
            await uow.commit()
        self.executor.launch(job.id)
        return job.id

    async def finish(self, *targets: str) -> None:
        """Let the runs of `targets` end, and wait for every job here (`idle` waits for all)."""
        for target in targets:
            self.runners[target].finish.set()
        await self.executor.idle()


@pytest.fixture
async def world(uow_factory: SqlUnitOfWorkFactory) -> AsyncIterator[World]:
    runners = {name: SteadyRunner() for name in TARGETS}
    executor = JobExecutor(
        uow_factory, TARGETS, lambda spec: runners[spec.name], SystemClock(), worker="host:1"
    )
    world = World(uow_factory, executor, runners, RecordingSender())
    yield world
    for runner in runners.values():
        runner.finish.set()
    await executor.shutdown(grace_seconds=5)


@asynccontextmanager
async def editing(
    world: World,
    pacer: Pacer | None = None,
    senders: dict[SenderKey, RecordingSender] | None = None,
) -> AsyncIterator[ProgressEditor]:
    editor = ProgressEditor(
        world.uow_factory,
        SystemClock(),
        world.executor,
        senders or {SenderKey("slack", TEAM): world.sender},
        pacer or roomy(),
        every=EVERY,
        tick=TICK,
    )

    async def final_card(job: Job) -> None:  # what the platform's listener does at the end
        world.ended_at[job.id] = time.monotonic()

    # The editor's listener goes first, as in the wiring: an edit in flight lands first.
    world.executor.subscribe(editor.job_ended, final_card)
    async with editor:
        yield editor


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - polling the editor's own loop
            await asyncio.sleep(0.02)


async def test_a_running_job_card_gets_a_bar_at_most_every_period_until_it_ends(
    world: World, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:  # an earlier run of demo: 40 files
        earlier = await uow.jobs.add(
            NewJob("demo", Origin(OriginKind.SCHEDULE), None, "scheduler", SystemClock().now())
        )
        earlier.transition(JobState.RUNNING, SystemClock().now())
        earlier.transition(JobState.SUCCEEDED, SystemClock().now())
        earlier.file_count, earlier.size_bytes = 40, 4000
        await uow.jobs.save(earlier)
        await uow.commit()
    async with editing(world):
        job_id = await world.start("demo", "C0OPS")
        await until(lambda: len(world.sender.updates) >= 3)
        await world.finish("demo")
        edits_at_end = len(world.sender.updates)
        await asyncio.sleep(EVERY + 4 * TICK)  # a few more ticks: nothing more may come
    edits = world.sender.updates
    assert len(edits) == edits_at_end
    assert all(e.at < world.ended_at[job_id] for e in edits)
    assert {e.ref for e in edits} == {MessageRef("C0OPS", f"17000000{job_id}.0001")}
    gaps = [b.at - a.at for a, b in itertools.pairwise(edits)]
    assert min(gaps) >= EVERY
    for edit in edits:
        assert edit.message.status == "running" and edit.message.job_id == job_id
        assert "▰" in edit.message.sections[0] or "▱" in edit.message.sections[0]
        assert "of about 40 files" in edit.message.sections[0]
    files = [int(e.message.sections[0].split(" · ")[2].split()[0]) for e in edits]
    assert files == sorted(files) and files[0] < files[-1]  # fresh progress every time


async def test_an_edit_in_flight_lands_before_the_final_card_and_none_starts_after(
    world: World,
) -> None:
    world.sender.gates["C0A"] = gate = asyncio.Event()
    async with editing(world):
        job_id = await world.start("demo", "C0A", "C0B")
        await until(lambda: len(world.sender.to("C0A")) == 1)  # in flight; C0B is next
        world.runners["demo"].finish.set()
        await until(lambda: job_id not in world.executor.running())
        await asyncio.sleep(0.2)
        assert job_id not in world.ended_at  # the final card waits for the edit in flight
        gate.set()
        await world.executor.idle()
        await asyncio.sleep(EVERY + 4 * TICK)
    [in_flight] = world.sender.to("C0A")
    assert in_flight.done <= world.ended_at[job_id]
    assert world.sender.to("C0B") == []  # it was due in the same pass, but the job had ended


async def test_without_an_earlier_run_the_card_says_so_instead_of_a_percent(
    world: World,
) -> None:
    async with editing(world):
        await world.start("demo", "C0OPS")
        await until(lambda: len(world.sender.updates) >= 1)
        await world.finish("demo")
    section = world.sender.updates[0].message.sections[0]
    assert "%" not in section and "files so far" in section and "no percentage" in section


async def test_the_card_is_in_its_requesters_language(world: World) -> None:
    world.sender.locales["U0CAROL"] = "fr-FR"
    async with editing(world):
        await world.start("demo", "C0OPS", user="U0CAROL")
        await until(lambda: len(world.sender.updates) >= 1)
        await world.finish("demo")
    edit = world.sender.updates[0].message
    assert edit.status == "en cours" and "fichiers jusqu'ici" in edit.sections[0]


async def test_a_channel_out_of_budget_is_skipped_while_another_is_edited(world: World) -> None:
    pacer = Pacer({"slack": Pace(0.001, 1)})  # one edit per channel, then none for long
    assert pacer.bucket(Destination("slack", TEAM, "C0BUSY")).try_take()  # alerts spent it
    async with editing(world, pacer):
        await world.start("demo", "C0OPS", "C0BUSY")
        await until(lambda: len(world.sender.to("C0OPS")) == 1)
        await asyncio.sleep(3 * EVERY)  # several periods: no edit is queued for later
        await world.finish("demo")
    assert len(world.sender.to("C0OPS")) == 1
    assert world.sender.to("C0BUSY") == []


async def test_retry_after_pauses_the_channel_for_the_time_asked(world: World) -> None:
    pacer = roomy()
    world.sender.failures["C0SLOW"] = [RetryAfter(30)]
    async with editing(world, pacer):
        await world.start("demo", "C0SLOW", "C0OPS")
        await until(lambda: len(world.sender.to("C0OPS")) >= 3)
        await world.finish("demo")
    assert len(world.sender.to("C0SLOW")) == 1  # the 429, then nothing during the pause
    assert pacer.bucket(Destination("slack", TEAM, "C0SLOW")).wait_needed() > 25


async def test_a_refused_edit_is_not_retried_and_a_broken_job_does_not_stop_others(
    world: World,
) -> None:
    broken, gone = RecordingSender(), "C0GONE"
    broken.failures["C0ELSE"] = [RuntimeError("a sender bug") for _ in range(100)]
    world.sender.failures[gone] = [PermanentFailure("message_not_found")]
    senders = {SenderKey("slack", TEAM): world.sender, SenderKey("slack", "T0OTHER"): broken}
    async with editing(world, senders=senders):
        await world.start("site-a", "C0ELSE", workspace="T0OTHER")
        await world.start("demo", gone, "C0OPS")
        await until(lambda: len(world.sender.to("C0OPS")) >= 3 and len(broken.updates) >= 2)
        await world.finish("demo", "site-a")
    assert len(world.sender.to(gone)) == 1  # deleted: never tried again


async def test_a_job_no_longer_running_in_the_database_is_not_edited(
    world: World, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with editing(world):
        job_id = await world.start("demo", "C0OPS")
        await until(lambda: len(world.sender.updates) >= 1)
        async with uow_factory() as uow:  # cancelled elsewhere; this worker has not seen it
            job = await uow.jobs.get(job_id)
            assert job is not None
            job.transition(JobState.CANCELLED, SystemClock().now())
            await uow.jobs.save(job)
            await uow.commit()
        seen = len(world.sender.updates)
        await asyncio.sleep(3 * EVERY)
        assert job_id in world.executor.running()
        assert len(world.sender.updates) <= seen + 1  # at most the edit already under way
        await world.finish("demo")
