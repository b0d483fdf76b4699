"""One shape for every long-lived component (python-telegram-bot's `Application`): an async
context manager with idempotent start and stop.

`async with component:` starts it on the first enter. An enter while it runs (the root's and
a nested one) only counts, and only the matching last exit stops it; an exit with nothing to
stop does nothing. A start that fails stops what it had begun, so a half-started component
leaves nothing open (`async with` would not call its exit). Once stopped, a component may be
entered again: it starts again (tests restart a dispatcher), unless it says it cannot.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Lifecycle:
    """Subclasses implement `_start` and `_stop`; the composition root enters them in order."""

    _lifecycle_depth = 0

    async def _start(self) -> None:
        """Acquire what the component holds (connections, tasks)."""

    async def _stop(self) -> None:
        """Release it; called once per start, also after a failed `_start`."""

    async def __aenter__(self) -> Self:
        self._lifecycle_depth += 1
        if self._lifecycle_depth == 1:
            try:
                await self._start()
            except BaseException:
                await self.__aexit__(None, None, None)
                raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        if self._lifecycle_depth == 0:
            return
        self._lifecycle_depth -= 1
        if self._lifecycle_depth == 0:
            await self._stop()
