"""The ack deadline race: a chat platform drops a request not answered within its deadline
(Slack and Discord: 3 s), yet most answers are ready long before it.

The work starts at once and is waited for up to a budget under the deadline. In time, its
result is the answer itself; too late, the caller acknowledges now ("working on it") and the
work, still running, is handed to `later`, which delivers its answer the platform's other way
(a response URL, an interaction's webhook) in the background.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from core.support.background import Background

T = TypeVar("T")

Later = Callable[["asyncio.Task[T]"], Coroutine[Any, Any, None]]


async def within(
    work: Coroutine[Any, Any, T],
    seconds: float,
    *,
    later: Later[T],
    background: Background,
) -> T | None:
    """`work`'s result if it is ready within `seconds` (its error, if it failed); None when
    it was not, once `later(work)` is running in `background`."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        background.keep(later(task))
        return None
    return task.result()
