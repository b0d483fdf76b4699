"""Streaming read of every job of a period with its annotations (exports, constant memory)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.model import Annotation, Job
from storage.database import READ_ONLY_OPTION
from storage.mapping import annotation_from_row, job_from_row
from storage.tables import AnnotationRow, JobRow

BATCH = 1000


class SqlJobArchive:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def stream(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[tuple[Job, Sequence[Annotation]]]:
        """One LEFT JOIN ordered by job: consecutive rows of one job are grouped as they come."""
        query = (
            select(JobRow, AnnotationRow)
            .outerjoin(AnnotationRow, AnnotationRow.job_id == JobRow.id)
            .where(JobRow.created_at >= since, JobRow.created_at < until)
            .order_by(JobRow.id, AnnotationRow.id)
            .execution_options(yield_per=BATCH)
        )
        reader = self._engine.execution_options(**{READ_ONLY_OPTION: True})
        async with AsyncSession(reader) as session:
            current: Job | None = None
            notes: list[Annotation] = []
            result = await session.stream(query)
            async for job_row, note_row in result:
                if current is None or job_row.id != current.id:
                    if current is not None:
                        yield current, notes
                    current, notes = job_from_row(job_row), []
                if note_row is not None:
                    notes.append(annotation_from_row(note_row))
                session.expunge_all()  # keep the identity map from growing with the export
            if current is not None:
                yield current, notes
