"""Group commit for audit entries that belong to no transaction (read-only commands, refusals).

One task drains a queue and writes whatever has gathered in one transaction, so a thousand
`status` requests a second cost a few commits instead of a thousand (PLATFORMS.md: one row per
commit tops out near 700/s on SQLite). The price: on `kill -9`, entries queued in the last
few milliseconds are lost; entries of state changes never go this way (they commit with the
change). `close()` writes what is queued before returning.

A batch the database refuses for what one of its rows holds (a NUL on PostgreSQL, a lone
surrogate no driver can encode) is written again row by row: the good rows are written as
they are, a bad one with its text cleaned, so one person's input never costs another's line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from core.domain.model import AuditEntry
from core.ports import UnitOfWorkFactory
from core.safety.text import clean
from core.support.lifecycle import Lifecycle

log = logging.getLogger(__name__)

MAX_BATCH = 500
TRIES = 3
BATCH_WINDOW = 0.05  # seconds the first entry waits for company: one commit per window


class BatchedAuditWriter(Lifecycle):
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory
        # None is the stop mark: everything queued before it is written first.
        self._queue: asyncio.Queue[AuditEntry | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._unwritten = 0
        self._settled = asyncio.Event()
        self._settled.set()
        self.written = 0
        self.dropped = 0

    def append(self, entry: AuditEntry) -> None:
        self._unwritten += 1
        self._settled.clear()
        self._queue.put_nowait(entry)

    async def _start(self) -> None:
        await self.start()

    async def _stop(self) -> None:
        await self.close()

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
        waiting = batch
        for attempt in range(TRIES):
            if not waiting:
                return
            try:
                await self._insert(waiting)
                self.written += len(waiting)
                return
            except Exception as error:
                if is_outage(error):  # the database may be restarting: wait and try again
                    log.exception(
                        "could not write %d audit entries (try %d)", len(waiting), attempt + 1
                    )
                else:
                    log.warning("%d audit entries refused together; one by one", len(waiting))
                    waiting = await self._one_by_one(waiting)
                    if not waiting:
                        return
            await asyncio.sleep(0.2 * (attempt + 1))
        if waiting:
            self.dropped += len(waiting)
            log.error("dropped %d audit entries after %d tries", len(waiting), TRIES)

    async def _one_by_one(self, batch: list[AuditEntry]) -> list[AuditEntry]:
        """Write each entry alone, cleaned if refused as it is; returns the entries left
        unwritten when the database went out of reach meanwhile."""
        for at, entry in enumerate(batch):
            for candidate in (entry, cleaned(entry)):
                try:
                    await self._insert([candidate])
                except Exception as error:
                    if is_outage(error):
                        return batch[at:]
                    continue
                self.written += 1
                break
            else:
                self.dropped += 1
                log.error("dropped the audit entry of %s %r", entry.actor, entry.action)
        return []

    async def _insert(self, entries: list[AuditEntry]) -> None:
        async with self._uow_factory() as uow:
            await uow.audit.append_many(entries)
            await uow.commit()


def is_outage(error: Exception) -> bool:
    """Whether `error` says the database is out of reach (worth waiting for), not that it
    refused what a row holds."""
    if isinstance(error, OSError | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def cleaned(entry: AuditEntry) -> AuditEntry:
    """`entry` with every text cleaned (`core.safety.text.clean`): what a database refused."""
    changes: dict[str, Any] = {
        field.name: clean(value)
        for field in dataclasses.fields(entry)
        if type(value := getattr(entry, field.name)) is str  # not the outcome, a StrEnum
    }
    return dataclasses.replace(entry, **changes)
