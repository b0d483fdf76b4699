"""Streaming read of every job of a period with its annotations (exports, constant memory).

Core rows, not ORM objects: a session would keep every object it loads in its identity map,
and clearing that map inside a `yield_per` stream invalidates the batches still to come
(issue 12, item 1). Plain tuples need neither.

Exports (`export_batches`) go further: the database formats the times as ISO 8601 text, so a
row reaches the core as the driver returns it, with no type processing and no `Job` per row
(bench/audit_export.py: a million jobs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.model import Annotation, Job
from core.jobs.export import JOB_FIELDS, NOTE_FIELDS, ExportNote, ExportRow
from storage.database import READ_ONLY_OPTION
from storage.mapping import (
    ANNOTATION_COLUMNS,
    JOB_COLUMNS,
    annotation_from_values,
    job_from_values,
)
from storage.tables import AnnotationRow, JobRow

T = TypeVar("T")
J = TypeVar("J")
N = TypeVar("N")
BATCH = 2000  # rows per fetch: the memory an export holds at once, and the unit it writes
_JOB_WIDTH = len(JOB_COLUMNS)

JobWithNotes = tuple[Job, list[Annotation]]
RowWithNotes = tuple[ExportRow, list[ExportNote]]

# The columns behind core.jobs.export's JOB_FIELDS and NOTE_FIELDS.
_JOB_SOURCES: dict[str, Any] = {
    "id": JobRow.id, "target": JobRow.target, "state": JobRow.state,
    "origin": JobRow.origin_kind, "platform": JobRow.origin_platform,
    "workspace": JobRow.origin_workspace, "channel": JobRow.origin_channel,
    "reference": JobRow.origin_reference, "requester": JobRow.requester,
    "requester_name": JobRow.requester_name, "created_at": JobRow.created_at,
    "started_at": JobRow.started_at, "finished_at": JobRow.finished_at,
    "size_bytes": JobRow.size_bytes, "file_count": JobRow.file_count, "sha256": JobRow.sha256,
    "error": JobRow.error,
}  # fmt: skip
_NOTE_SOURCES: dict[str, Any] = {
    "kind": AnnotationRow.kind, "text": AnnotationRow.text, "author": AnnotationRow.author,
    "author_name": AnnotationRow.author_name, "created_at": AnnotationRow.created_at,
    "link": AnnotationRow.link,
}  # fmt: skip
_TIMES = ("created_at", "started_at", "finished_at")


class SqlJobArchive:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def batches(
        self, since: datetime, until: datetime
    ) -> AsyncGenerator[list[JobWithNotes], None]:
        """Jobs created in [since, until), oldest first, each with its notes, a fetch at a time.

        One LEFT JOIN ordered by job: consecutive rows of one job are grouped as they come; the
        last job of a fetch waits for the next, which may hold more of its notes."""
        query = (
            select(*JOB_COLUMNS, *ANNOTATION_COLUMNS)
            .outerjoin(AnnotationRow, AnnotationRow.job_id == JobRow.id)
            .where(JobRow.created_at >= since, JobRow.created_at < until)
            .order_by(JobRow.id, AnnotationRow.id)
        )
        reader = self._engine.execution_options(**{READ_ONLY_OPTION: True})
        async with reader.connect() as connection:
            result = await connection.stream(query.execution_options(yield_per=BATCH))
            grouped = _grouped(
                result.partitions(), _JOB_WIDTH, job_from_values, annotation_from_values
            )
            async with aclosing(grouped) as batches:
                async for batch in batches:
                    yield batch

    async def export_batches(
        self, since: datetime, until: datetime, target: str | None = None
    ) -> AsyncGenerator[list[RowWithNotes], None]:
        """Jobs created in [since, until) (of `target`, if given), oldest first, as export rows
        (JOB_FIELDS) each with its notes (NOTE_FIELDS), a fetch at a time; grouped as
        `batches` groups them."""
        dialect = self._engine.dialect.name
        query = (
            select(
                *(_export_column(_JOB_SOURCES[name], name, dialect) for name in JOB_FIELDS),
                *(_export_column(_NOTE_SOURCES[name], name, dialect) for name in NOTE_FIELDS),
            )
            .outerjoin(AnnotationRow, AnnotationRow.job_id == JobRow.id)
            .where(*_period(since, until, target))
            .order_by(JobRow.id, AnnotationRow.id)
        )
        width = len(JOB_FIELDS)
        reader = self._engine.execution_options(**{READ_ONLY_OPTION: True})
        async with reader.connect() as connection:
            result = await connection.stream(query.execution_options(yield_per=BATCH))
            # aclosing: a reader leaving early waits for the fetch under way before the
            # connection closes (asyncpg refuses a second operation while one runs).
            async with (
                aclosing(_read_ahead(result.partitions())) as fetches,
                aclosing(_grouped(fetches, width, tuple, tuple)) as batches,
            ):
                async for batch in batches:
                    yield batch

    async def count(self, since: datetime, until: datetime, target: str | None = None) -> int:
        """How many jobs `export_batches` yields (its progress line's total)."""
        query = select(func.count()).select_from(JobRow).where(*_period(since, until, target))
        reader = self._engine.execution_options(**{READ_ONLY_OPTION: True})
        async with reader.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def stream(self, since: datetime, until: datetime) -> AsyncGenerator[JobWithNotes, None]:
        """The same jobs one at a time."""
        async with aclosing(self.batches(since, until)) as batches:
            async for batch in batches:
                for pair in batch:
                    yield pair


def _period(since: datetime, until: datetime, target: str | None) -> list[ColumnElement[bool]]:
    conditions = [JobRow.created_at >= since, JobRow.created_at < until]
    if target is not None:
        conditions.append(JobRow.target == target)
    return conditions


def _export_column(column: Any, name: str, dialect: str) -> ColumnElement[Any]:
    """`column` as the export reads it: a time as ISO 8601 text, anything else as stored."""
    return _iso_text(column, dialect) if name in _TIMES else column


def _iso_text(column: Any, dialect: str) -> ColumnElement[str]:
    """A UTCDateTime column as `datetime.isoformat()` writes the aware UTC time (no fraction
    when it is zero), computed by the database: NULL stays NULL.

    UTCDateTime stores naive UTC; SQLite keeps SQLAlchemy's text `YYYY-MM-DD HH:MM:SS.ffffff`
    (six digits always), PostgreSQL a timestamp that to_char writes the same way."""
    if dialect == "postgresql":
        text: ColumnElement[str] = func.to_char(column, "YYYY-MM-DD HH24:MI:SS.US", type_=String)
    else:
        text = type_coerce(column, String)
    iso = func.replace(func.replace(text, " ", "T", type_=String), ".000000", "", type_=String)
    return iso.concat("+00:00")


async def _grouped(
    fetches: AsyncIterator[Sequence[Sequence[Any]]],
    width: int,
    job_of: Callable[[Sequence[Any]], J],
    note_of: Callable[[Sequence[Any]], N],
) -> AsyncGenerator[list[tuple[J, list[N]]], None]:
    """Rows of the LEFT JOIN ordered by job (the job's `width` columns, then a note's or
    NULLs) grouped into (job, notes), a fetch at a time; the last job of a fetch waits for
    the next, which may hold more of its notes."""
    batch: list[tuple[J, list[N]]] = []
    current: J | None = None
    current_id: Any = None
    notes: list[N] = []
    async for rows in fetches:
        for row in rows:
            if current is None or row[0] != current_id:
                if current is not None:
                    batch.append((current, notes))
                current, current_id, notes = job_of(row[:width]), row[0], []
            if row[width] is not None:  # the LEFT JOIN's side: a note, or none
                notes.append(note_of(row[width:]))
        if batch:
            yield batch
            batch = []
    if current is not None:
        yield [(current, notes)]


async def _read_ahead(fetches: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """`fetches`, each asked for as the previous one is handed over: the driver's thread (or
    the server) produces the next fetch while the caller turns this one into text."""
    pending = asyncio.ensure_future(anext(fetches, None))
    try:
        while (fetched := await pending) is not None:
            pending = asyncio.ensure_future(anext(fetches, None))
            yield fetched
    finally:  # a reader leaving early: the fetch under way ends before the connection does
        await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()  # retrieved, so an early exit logs no "never retrieved"
