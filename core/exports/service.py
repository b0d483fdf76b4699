"""Builds `audit` exports in the background and tells their progress where they were asked.

Every export is built in the background, whatever its size: the command is answered at once
(so no platform's acknowledgement deadline is ever at risk), and the file is then delivered
by a proactive call on every platform anyway (an upload cannot ride in an acknowledgement).
One path for small and large exports keeps the behaviour the same for both.

The progress line is posted where the command was typed (an `ExportChannel`, from the
platform's sender), edited as batches are written (at most once per `every` seconds), and
replaced by the result: the signed, expiring link, plus the file itself when the platform
takes uploads of that size. A failure ends with a message saying so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from core.domain.audit import audit_entry
from core.domain.model import Actor, AuditEntry, Outcome
from core.exports.actions import export_actions
from core.exports.spec import ExportSpec, ExportWhat, StoredExport
from core.exports.store import ExportStore
from core.i18n import Translator
from core.jobs.export import export_rows
from core.ports import AuditSink, Clock, JobArchive, UnitOfWorkFactory
from core.safety.links import export_path, signed_url
from core.support.background import Background
from core.support.lifecycle import Lifecycle
from core.views.exports import building_message, failed_message, ready_message
from core.views.message import Message

log = logging.getLogger(__name__)

ACTION_PAGE = 2000  # action-log entries read per query: the memory an export holds at once
EXPORT_ACTION = "audit.export"  # the audit line of a finished (or failed) export


class ExportChannel(Protocol):
    """Where one export's progress and result are shown (the conversation it was asked in)."""

    upload_limit: int  # bytes: a larger file goes as its link only; 0: never uploaded

    async def show(self, message: Message) -> None:
        """Post the message the first time, then edit it in place (or post anew where the
        platform cannot edit)."""
        ...

    async def attach(self, export: StoredExport, message: Message) -> None:
        """Post the file itself in the conversation (raise on a refusal: the link stays)."""
        ...


ChannelFor = Callable[[Actor], "ExportChannel | None"]


class ExportService(Lifecycle):
    """Starts exports (`start`, called by the `audit` handler after its commit) and runs them.

    Args:
        uow_factory: read-only units of work for the action log.
        archive: the job archive (streamed job rows).
        store: where the files go.
        clock: the clock.
        channel_for: the conversation an actor's export is shown in (None: nowhere to show
            it; the export is still built and audited).
        base_url, secret: how download links are made (G4), valid for the store's TTL.
        audit_sink: where the export's own audit line goes.
        every: seconds between two edits of the progress line.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        archive: JobArchive,
        store: ExportStore,
        clock: Clock,
        channel_for: ChannelFor,
        *,
        base_url: str,
        secret: bytes,
        audit_sink: AuditSink | None = None,
        every: float = 2.0,
    ) -> None:
        self._uow_factory = uow_factory
        self._archive = archive
        self.store = store
        self._clock = clock
        self._channel_for = channel_for
        self._base_url = base_url
        self._secret = secret
        self._audit_sink = audit_sink
        self._every = every
        self._background = Background("export")

    def start(self, spec: ExportSpec, actor: Actor) -> asyncio.Task[StoredExport | None]:
        """Build `spec` for `actor` in the background; its task (tests await it)."""
        return self._background.keep(self.build(spec, actor))

    def reaches(self, actor: Actor) -> bool:
        """Whether an export of `actor`'s can be shown where they asked (the bot can post
        there): otherwise `audit` is refused rather than built for nobody."""
        return self._channel_for(actor) is not None

    async def idle(self) -> None:
        """Until every export started has ended (the console's scripted mode, tests)."""
        await self._background.drain()

    async def _start(self) -> None:
        """Files a previous process left past their time go at start, not at the next export."""
        swept = self.store.sweep(self._clock.now())
        if swept:
            log.info("swept %d expired export file(s)", swept)

    async def _stop(self) -> None:
        """Exports under way are cancelled at shutdown (their partial file is removed)."""
        await self._background.close()

    def link(self, export: StoredExport) -> str:
        ttl = export.expires_at - self._clock.now()
        return signed_url(
            self._base_url,
            export_path(export.export_id),
            self._secret,
            self._clock.now(),
            max(ttl, timedelta(0)),
        )

    async def build(self, spec: ExportSpec, actor: Actor) -> StoredExport | None:
        """Build, show and audit one export; None when it failed (said in the channel)."""
        t = Translator(actor.locale)
        channel = self._channel_for(actor)
        try:
            self.store.sweep(self._clock.now())
            total = await self._count(spec)
            progress = _Progress(channel, t, spec, total, self._every)
            await progress.show(0, force=True)
            stored = await self.store.write(spec, self._chunks(spec, progress), self._clock.now())
            stored = replace(stored, rows=progress.done)
        except Exception as error:
            log.exception("the %s export for %s failed", spec.what.value, actor.principal)
            self._audit(actor, spec, Outcome.ERROR, f"{type(error).__name__}")
            await show_safely(channel, failed_message(t, spec))
            return None
        link = self.link(stored)
        attach = channel is not None and 0 < stored.size <= channel.upload_limit
        message = ready_message(t, spec, stored, link, attached=attach)
        await show_safely(channel, message)
        if attach and channel is not None:
            try:
                await channel.attach(stored, message)
            except Exception as error:  # the link is there: the file is a convenience
                log.warning("could not upload export %s: %s", stored.export_id, error)
                await show_safely(
                    channel, ready_message(t, spec, stored, link, attached=False, refused=True)
                )
        self._audit(actor, spec, Outcome.OK, f"{stored.rows} rows, {stored.size} bytes")
        return stored

    async def _count(self, spec: ExportSpec) -> int:
        if spec.what is ExportWhat.JOBS:
            return await self._archive.count(spec.since, spec.until, spec.target)
        async with self._uow_factory(read_only=True) as uow:
            return await uow.audit.count(spec.since, spec.until, target=spec.target)

    def _chunks(self, spec: ExportSpec, progress: _Progress) -> AsyncIterator[str]:
        return export_chunks(spec, self._archive, self._uow_factory, progress.advance)

    def _audit(self, actor: Actor, spec: ExportSpec, outcome: Outcome, detail: str) -> None:
        if self._audit_sink is None:
            return
        described = (
            f"{spec.what.value} {spec.fmt.value} {spec.since.isoformat()}.."
            f"{spec.until.isoformat()} {spec.target or '*'}: {detail}"
        )
        self._audit_sink.append(
            audit_entry(actor, self._clock, EXPORT_ACTION, outcome, spec.target, None, described)
        )


OnBatch = Callable[[int], Awaitable[None]]


async def export_chunks(
    spec: ExportSpec,
    archive: JobArchive,
    uow_factory: UnitOfWorkFactory,
    on_batch: OnBatch | None = None,
) -> AsyncGenerator[str, None]:
    """The export's text, a batch of rows at a time (constant memory); `on_batch` hears how
    many rows each batch held. The CLI's `audit export` and the chat's `audit` both use it."""
    if spec.what is ExportWhat.JOBS:
        batches = archive.export_batches(spec.since, spec.until, spec.target)
        # aclosing: a reader leaving early ends the database stream before its connection.
        async with (
            aclosing(batches) as rows,  # type: ignore[type-var]
            aclosing(_counted(rows, on_batch)) as counted,
            aclosing(export_rows(counted, spec.fmt)) as chunks,
        ):
            async for chunk in chunks:
                yield chunk
    else:
        pages = _counted(action_pages(spec, uow_factory), on_batch)
        async with aclosing(export_actions(pages, spec.fmt)) as chunks:
            async for chunk in chunks:
                yield chunk


async def action_pages(
    spec: ExportSpec, uow_factory: UnitOfWorkFactory
) -> AsyncGenerator[Sequence[AuditEntry], None]:
    """The action log by pages in time order, each its own short read (keyset: after the
    last entry's time and id), so no transaction stays open for the whole export. The next
    page is read while this one is written (its start is known as soon as this one is)."""

    async def read(after: tuple[datetime, int] | None) -> Sequence[AuditEntry]:
        async with uow_factory(read_only=True) as uow:
            return await uow.audit.page(
                spec.since, spec.until, target=spec.target, after=after, limit=ACTION_PAGE
            )

    pending: asyncio.Future[Sequence[AuditEntry]] | None = asyncio.ensure_future(read(None))
    try:
        while pending is not None:
            page = await pending
            pending = None
            if len(page) == ACTION_PAGE:  # a full page: there may be more
                last = page[-1]
                pending = asyncio.ensure_future(read((last.at, last.id or 0)))
            if page:
                yield page
    finally:  # a reader leaving early: the read under way ends before its connection goes
        if pending is not None:
            await asyncio.wait([pending])
            if not pending.cancelled():
                pending.exception()  # retrieved, so an early exit logs no "never retrieved"


class _Progress:
    """The progress line: rows written so far, shown at most once per `every` seconds."""

    def __init__(
        self,
        channel: ExportChannel | None,
        t: Translator,
        spec: ExportSpec,
        total: int,
        every: float,
    ) -> None:
        self._channel = channel
        self._t = t
        self._spec = spec
        self.total = total
        self.done = 0
        self._every = every
        self._shown_at = 0.0

    async def advance(self, rows: int) -> None:
        self.done += rows
        await self.show(self.done)

    async def show(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._shown_at < self._every:
            return
        self._shown_at = now
        await show_safely(self._channel, building_message(self._t, self._spec, done, self.total))


B = TypeVar("B", bound=Sequence[object])


async def _counted(batches: AsyncIterator[B], on_batch: OnBatch | None) -> AsyncGenerator[B, None]:
    async for batch in batches:
        yield batch
        if on_batch is not None:
            await on_batch(len(batch))


async def show_safely(
    channel: ExportChannel | None, message: Message, what: str = "an export's progress"
) -> None:
    """Show `message`; a platform refusing it is logged (as `what`), never the work's end."""
    if channel is None:
        return
    try:
        await channel.show(message)
    except Exception as error:
        log.warning("could not show %s: %s", what, error)
