"""`exportbot worker` (E4): claims queued jobs of its targets from the shared database and runs
them with the executor, on the host that holds the files, while `serve` answers chat elsewhere.

Claims take the oldest queued job (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never
wait on one another); the executor records every transition and writes the same outbox events
as in `serve`, whose dispatcher sends the alerts. The worker also sweeps orphans now and then
(E1), so a worker killed on this host is recovered even while `serve` is down. Stopping stops
the claims first; the executor then gives running jobs their grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from core.jobs.executor import JobExecutor
from core.support.lifecycle import Lifecycle

log = logging.getLogger(__name__)

RECOVER_SECONDS = 5.0  # how often the worker looks for jobs whose process died


class QueueWorker(Lifecycle):
    def __init__(
        self,
        executor: JobExecutor,
        targets: Sequence[str],
        *,
        poll_seconds: float = 1.0,
        parallel: int = 4,
        recover_seconds: float = RECOVER_SECONDS,
    ) -> None:
        self._executor = executor
        self._targets = tuple(targets)
        self._poll_seconds = poll_seconds
        self._parallel = parallel
        self._recover_seconds = recover_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="queue-worker")
        log.info("worker %s claims jobs of %s", self._executor.worker, ", ".join(self._targets))

    async def _stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        recovered_at = loop.time()
        while not self._stopping.is_set():
            claimed = None
            try:
                if loop.time() - recovered_at >= self._recover_seconds:
                    recovered_at = loop.time()
                    await self._executor.recover()
                if self._executor.in_flight() < self._parallel:
                    claimed = await self._executor.claim_next(self._targets)
            except Exception:  # the database may be restarting: try again at the next poll
                log.exception("claiming a job failed")
            if claimed is not None:
                await asyncio.sleep(0)  # let the job's task claim its start
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll_seconds)
