"""A running job's message, edited in place with a text progress bar (C4).

`progress_line` renders the bar; `ProgressEditor` keeps every posted job message of the jobs
running in this process up to date: at most once per `every` seconds per message, only when
the destination's token bucket (shared with alerts) has a token, and never after the job's
end, whose own final edit is made by the platform's job listener.

The estimate is the last successful run of the same target. Runners count the source bytes
they read, while a job records the size of its compressed archive: the two do not compare,
so the percentage and the time left come from files (counted the same way by both), and the
bytes are shown as read so far. Once the runner knows its byte total, bytes give the percent.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Protocol

from core.delivery.pacing import Pacer
from core.delivery.senders import (
    DeliveryError,
    MessageRef,
    PermanentFailure,
    RetryAfter,
    Sender,
    SenderKey,
)
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.model import Job, JobState
from core.domain.subscriptions import Destination
from core.i18n import Translator
from core.jobs.runners import Progress
from core.ports import Clock, UnitOfWorkFactory
from core.support.background import stop
from core.support.lifecycle import Lifecycle
from core.support.log_context import log_context
from core.views.jobs import job_message
from core.views.message import Message

log = logging.getLogger(__name__)

BAR_CELLS = 10
RUNNING_CAP = 99  # a running job is never done: 100 % is for the final message
ESTIMATE_LOOKBACK = 10  # recent jobs of the target searched for a successful run


@dataclass(frozen=True)
class Estimate:
    """What the last successful run of the same target suggests about this one."""

    files: int  # how many files it archived


def estimate_from(recent: Iterable[Job]) -> Estimate | None:
    """The first (newest) succeeded job with a file count, if any."""
    for job in recent:
        if job.state is JobState.SUCCEEDED and job.file_count:
            return Estimate(job.file_count)
    return None


def fraction_done(progress: Progress, estimate: Estimate | None) -> float | None:
    """How much of the run is done (0 to 1), or None when nothing tells."""
    if progress.bytes_total is not None:  # the tree is walked: bytes are exact
        if progress.bytes_total <= 0:
            return 1.0
        return min(progress.bytes_done / progress.bytes_total, 1.0)
    if estimate is None:
        return None
    return min(progress.files_done / estimate.files, 1.0)


def percent_done(progress: Progress, estimate: Estimate | None) -> int | None:
    """Whole percent, capped below 100 while the job runs; None without an estimate."""
    fraction = fraction_done(progress, estimate)
    if fraction is None:
        return None
    return min(math.floor(fraction * 100), RUNNING_CAP)


def bar(percent: int) -> str:
    filled = min(percent * BAR_CELLS // 100, BAR_CELLS)
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def progress_line(
    t: Translator,
    progress: Progress,
    estimate: Estimate | None,
    elapsed: timedelta | None = None,
) -> str:
    """`▰▰▰▰▱▱▱▱▱▱ 42 % · 12.3 MB read · 180 of about 430 files · about 40 s left`.

    Without an estimate: bytes and files so far, and a sentence saying why there is no
    percentage (never a made-up one).
    """
    percent = percent_done(progress, estimate)
    parts: list[str] = []
    if percent is not None:
        parts.append(f"{bar(percent)} " + t.t("progress.percent", percent=percent))
    if progress.bytes_total is not None:
        parts.append(
            t.t(
                "progress.bytes_of",
                done=t.size(progress.bytes_done),
                total=t.size(progress.bytes_total),
            )
        )
    else:
        parts.append(t.t("progress.bytes_read", size=t.size(progress.bytes_done)))
    if estimate is not None:
        parts.append(
            t.t("progress.files_of", done=t.number(progress.files_done), count=estimate.files)
        )
    else:
        parts.append(t.t("progress.files", count=progress.files_done))
    if percent is None:
        parts.append(t.t("progress.no_estimate"))
    else:
        parts.append(_time_left(t, fraction_done(progress, estimate), elapsed))
    return " · ".join(parts)


def _time_left(t: Translator, fraction: float | None, elapsed: timedelta | None) -> str:
    if fraction is not None and fraction >= 1:
        return t.t("progress.almost_done")
    if not fraction or elapsed is None or elapsed <= timedelta(0):
        return t.t("progress.eta_unknown")
    left = elapsed.total_seconds() * (1 - fraction) / fraction  # at the pace so far
    return t.t("progress.eta", duration=_about(t, left))


def _about(t: Translator, seconds: float) -> str:
    """A rounded duration: an estimate with a tenth of a second would claim too much."""
    step = 5 if seconds < 60 else 30 if seconds < 3600 else 300
    rounded = max(step, math.ceil(seconds / step) * step)
    if rounded < 60:
        return f"{rounded} s"  # the unit symbol `t.duration` writes in every language
    return t.duration(timedelta(seconds=rounded))


# -- the editor ---------------------------------------------------------------------------


class RunningJobs(Protocol):
    """What the editor reads from the executor (core/jobs/executor.py `JobExecutor`)."""

    def running(self) -> list[int]: ...

    def progress_of(self, job_id: int) -> Progress | None: ...


@dataclass
class _Shown:
    """One posted job message, as this editor last left it."""

    since: float  # monotonic time of its last edit (or of first sight: the post itself)
    progress: Progress | None = None  # what it shows; None: the card as posted
    gone: bool = False  # the platform refused it for good (deleted, no access)


@dataclass
class _Watch:
    """A job running here whose messages the editor keeps up to date."""

    estimate: Estimate | None
    locale: str
    next_look: float = 0.0
    messages: dict[tuple[str, str, str, str], _Shown] = field(default_factory=dict)


class ProgressEditor(Lifecycle):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        executor: RunningJobs,
        senders: Mapping[SenderKey, Sender],
        pacer: Pacer,
        *,
        every: float = 5.0,
        tick: float = 1.0,
    ) -> None:
        """`senders` are keyed by platform and workspace (`SenderKey`); `pacer` is shared with
        the alert dispatcher so that edits and alerts to one channel spend one budget."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._executor = executor
        self._senders = dict(senders)
        self._platforms = sorted({SenderKey.parse(key).platform for key in self._senders})
        self._pacer = pacer
        self._every = every
        self._tick = tick
        self._watches: dict[int, _Watch] = {}
        self._editing = asyncio.Lock()  # held while an edit is in flight
        self._task: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="progress-editor")

    async def _stop(self) -> None:
        if self._task is not None:
            await stop(self._task)
            self._task = None
        self._watches.clear()

    async def job_ended(self, job: Job) -> None:
        """An executor listener, to be called before the one that posts the final card: an
        edit already in flight lands first, and no later edit starts (the job has left
        `running()` by then)."""
        async with self._editing:
            self._watches.pop(job.id, None)

    async def refresh(self) -> None:
        """One pass over the jobs running here; a job's failure does not stop the others."""
        running = self._executor.running()
        for job_id in set(self._watches) - set(running):
            del self._watches[job_id]
        for job_id in running:
            progress = self._executor.progress_of(job_id)
            if progress is None:
                continue
            with log_context(job_id=job_id):  # the edits' lines (and the SDKs') name it
                try:
                    await self._refresh_job(job_id, progress)
                except Exception:
                    log.exception("could not show the progress of job #%s", job_id)

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # the executor or the database hiccuped: the next tick retries
                log.exception("progress pass failed")
            await asyncio.sleep(self._tick)

    def _worth_a_look(self, watch: _Watch | None, progress: Progress) -> bool:
        """Read the database only when some message may be due for an edit."""
        if watch is None:
            return True
        if time.monotonic() < watch.next_look:
            return False
        shown = [s for s in watch.messages.values() if not s.gone]
        return not watch.messages or any(s.progress != progress for s in shown)

    async def _refresh_job(self, job_id: int, progress: Progress) -> None:
        watch = self._watches.get(job_id)
        if not self._worth_a_look(watch, progress):
            return
        async with self._uow_factory(read_only=True) as uow:
            job = await uow.jobs.get(job_id)
            if job is None or job.state is not JobState.RUNNING:
                return
            posted: list[PostedMessage] = []
            for platform in self._platforms:
                posted.extend(await uow.posted.for_job(job_id, platform))
            annotations = await uow.annotations.for_job(job_id)
            estimate = None
            if watch is None:  # the estimate does not change during a run: read it once
                recent = await uow.jobs.recent(targets=[job.target], limit=ESTIMATE_LOOKBACK)
                estimate = estimate_from(recent)
        if watch is None:
            watch = _Watch(estimate, await self._locale(job))
            self._watches[job_id] = watch
        now = time.monotonic()
        due: list[tuple[PostedMessage, _Shown]] = []
        for where in posted:
            sender = self._sender(where)
            if where.kind is not PostedKind.JOB or sender is None or not sender.edits:
                continue
            key = (where.platform, where.workspace, where.channel, where.message_id)
            shown = watch.messages.setdefault(key, _Shown(since=now))
            if not shown.gone and shown.progress != progress and now - shown.since >= self._every:
                due.append((where, shown))
        if due:
            t = Translator(watch.locale)
            elapsed = self._clock.now() - job.started_at if job.started_at else None
            percent = percent_done(progress, watch.estimate)
            card = job_message(t, job, annotations, now=self._clock.now(), percent=percent)
            line = progress_line(t, progress, watch.estimate, elapsed)
            message = replace(card, sections=(line, *card.sections))
            for where, shown in due:
                await self._edit(job_id, where, shown, progress, message)
        alive = [s.since for s in watch.messages.values() if not s.gone]
        watch.next_look = min(alive, default=now) + self._every

    async def _edit(
        self,
        job_id: int,
        where: PostedMessage,
        shown: _Shown,
        progress: Progress,
        message: Message,
    ) -> None:
        sender = self._sender(where)
        bucket = self._pacer.bucket(Destination(where.platform, where.workspace, where.channel))
        async with self._editing:
            # The job may have ended while we read: its final card must stay the last word.
            if job_id not in self._executor.running() or job_id not in self._watches:
                return
            if sender is None or not bucket.try_take():
                return  # out of budget: the next tick tries again, with fresher progress
            try:
                await sender.update(MessageRef(where.channel, where.message_id), message)
                shown.progress = progress
            except RetryAfter as wait:
                bucket.pause(wait.seconds)  # the same progress is due again after the pause
            except DeliveryError as error:
                # Not worth a retry: the next edit carries newer progress anyway.
                log.warning("job #%s progress not shown in %s: %s", job_id, where.channel, error)
                shown.progress, shown.gone = progress, isinstance(error, PermanentFailure)
            finally:
                # Any attempt waits its turn, so a sender's bug is not retried (and logged)
                # every tick.
                shown.since = time.monotonic()

    def _sender(self, where: PostedMessage) -> Sender | None:
        return self._senders.get(SenderKey.of(where))

    async def _locale(self, job: Job) -> str:
        """The card keeps the language it was posted in, its requester's (as its final
        version does); English when the requester is not on a platform we send to."""
        requester = job.requester
        if requester is None:
            return "en"
        sender = self._senders.get(SenderKey.of(requester))
        if sender is None:
            return "en"
        try:
            return await sender.locale_of(requester.user_id)
        except Exception:  # a card in English beats no progress at all
            log.exception("no locale for job #%s; progress shown in English", job.id)
            return "en"
