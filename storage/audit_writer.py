"""Group commit for audit entries that belong to no transaction (read-only commands, refusals).

One task drains a queue and writes whatever has gathered in one transaction, so a thousand
`status` requests a second cost a few commits instead of a thousand (PLATFORMS.md: one row per
commit tops out near 700/s on SQLite). The price: on `kill -9`, entries queued in the last
few milliseconds are lost; entries of state changes never go this way (they commit with the
change). `close()` writes what is queued before returning.
"""

from __future__ import annotations

import asyncio
import logging

from core.model import AuditEntry
from core.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_BATCH = 500
BATCH_WINDOW = 0.05  # seconds the first entry waits for company: one commit per window


class BatchedAuditWriter:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory
        # None is the stop mark: everything queued before it is written first.
        self._queue: asyncio.Queue[AuditEntry | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._unwritten = 0
        self._settled = asyncio.Event()
        self._settled.set()
        self.written = 0

    def append(self, entry: AuditEntry) -> None:
        self._unwritten += 1
        self._settled.clear()
        self._queue.put_nowait(entry)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def close(self) -> None:
        """Write whatever is queued, then stop. Idempotent."""
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        else:
            await self._drain()

    async def flush(self) -> None:
        """Wait until every entry appended so far is written (or given up on)."""
        await self._settled.wait()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                await self._drain()
                return
            await asyncio.sleep(BATCH_WINDOW)
            batch, stop = self._take(MAX_BATCH - 1)
            await self._write([first, *batch])
            if stop:
                await self._drain()
                return

    async def _drain(self) -> None:
        while not self._queue.empty():
            batch, _ = self._take(MAX_BATCH)
            await self._write(batch)

    def _take(self, limit: int) -> tuple[list[AuditEntry], bool]:
        """Up to `limit` queued entries, and whether the stop mark was among them."""
        batch: list[AuditEntry] = []
        stop = False
        while len(batch) < limit and not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is None:
                stop = True
            else:
                batch.append(entry)
        return batch, stop

    async def _write(self, batch: list[AuditEntry]) -> None:
        try:
            await self._commit(batch)
        finally:
            self._unwritten -= len(batch)
            if self._unwritten == 0:
                self._settled.set()

    async def _commit(self, batch: list[AuditEntry]) -> None:
        if not batch:
            return
        for attempt in range(3):
            try:
                async with self._uow_factory() as uow:
                    await uow.audit.append_many(batch)
                    await uow.commit()
                self.written += len(batch)
                return
            except Exception:  # the database may be restarting; the entries wait and retry
                log.exception("could not write %d audit entries (try %d)", len(batch), attempt + 1)
                await asyncio.sleep(0.2 * (attempt + 1))
        log.error("dropped %d audit entries after 3 tries", len(batch))
