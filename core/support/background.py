"""Small pieces for the long-running loops (dispatcher, progress editor, scheduler) and the
background work the chat adapters start after an ack.

Two traps they share, both met here: on Python 3.11 `asyncio.wait_for(event.wait(), t)` can
swallow the cancel meant for its caller, so a loop stopped just after a wake runs on; and
`suppress(CancelledError)` around `await task` also swallows a cancel of whoever is waiting,
so shutdown can hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


async def wait_for_wake(wake: asyncio.Event, seconds: float) -> None:
    """Until `wake` is set or `seconds` pass, whichever is first."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await wake.wait()


async def stop(*tasks: asyncio.Task[Any]) -> None:
    """Cancel `tasks` and wait until they have ended; their cancellation stays theirs, and
    a cancel of the caller still reaches the caller."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)


class Background:
    """Work that outlives the request that started it (what follows an ack): each task is
    kept until it ends and its failure is logged; `drain` waits for them all (tests, a
    graceful stop), `close` cancels them (shutdown)."""

    def __init__(self, label: str) -> None:
        self._label = label  # who started the work, for the log
        self._tasks: set[asyncio.Task[Any]] = set()

    def keep(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `work` in the background, kept until it ends; its task, to await if wanted."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s background work failed", self._label, exc_info=task.exception())

    async def drain(self) -> None:
        """Wait until no task is left, including tasks started by the ones waited for."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def settle(self, seconds: float) -> None:
        """A graceful stop: wait up to `seconds` for the tasks, then cancel what is left."""
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=seconds)
            if late:
                log.warning(
                    "%s: %d task(s) still running at shutdown, cancelled", self._label, len(late)
                )
        await self.close()

    async def close(self) -> None:
        """Cancel every task and wait until they have ended."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
