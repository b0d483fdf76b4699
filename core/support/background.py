"""Small pieces for the long-running loops (dispatcher, progress editor, scheduler).

Two traps they share, both met here: on Python 3.11 `asyncio.wait_for(event.wait(), t)` can
swallow the cancel meant for its caller, so a loop stopped just after a wake runs on; and
`suppress(CancelledError)` around `await task` also swallows a cancel of whoever is waiting,
so shutdown can hang.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


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
