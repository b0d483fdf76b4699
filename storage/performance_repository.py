"""Daily performance (C6) as one aggregate query, and the bounds' state as compare-and-set."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, Float, cast, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.performance import Bound, DailyPerformance
from storage.tables import SUCCEEDED_SQL, JobRow, PerformanceStateRow


def _seconds(dialect: str) -> ColumnElement[float]:
    """A job's run time in seconds, in the dialect's own date arithmetic."""
    if dialect == "sqlite":  # naive UTC text: julianday counts days, with fractions
        days = func.julianday(JobRow.finished_at) - func.julianday(JobRow.started_at)
        return cast(days * 86400.0, Float)
    return cast(func.extract("epoch", JobRow.finished_at - JobRow.started_at), Float)


_NAMES = frozenset(b.value for b in Bound)


def _encode(bounds: frozenset[Bound]) -> str:
    return ",".join(sorted(b.value for b in bounds))


def _decode(text_: str) -> frozenset[Bound]:
    return frozenset(Bound(word) for word in text_.split(",") if word in _NAMES)


class SqlPerformanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def daily(
        self, since: datetime, until: datetime, targets: Collection[str] | None = None
    ) -> Sequence[DailyPerformance]:
        bind = self._session.get_bind()
        # date() of a naive UTC timestamp is its UTC day on both: SQLite gives text, PostgreSQL
        # a date.
        day = func.date(JobRow.finished_at).label("day")
        query = (
            select(
                JobRow.target,
                day,
                func.count(),
                func.avg(_seconds(bind.dialect.name)),
                func.avg(cast(JobRow.size_bytes, Float)),
            )
            # The very predicate of the partial index, as a literal: SQLite uses a partial
            # index only when the query states its condition word for word.
            .where(text(SUCCEEDED_SQL))
            .where(JobRow.finished_at >= since, JobRow.finished_at < until)
            .where(JobRow.started_at.is_not(None))
            .group_by(JobRow.target, day)
            .order_by(JobRow.target, day)
        )
        if targets is not None:
            query = query.where(JobRow.target.in_(sorted(targets)))
        rows = await self._session.execute(query)
        return [
            DailyPerformance(
                target,
                bucket if isinstance(bucket, date) else date.fromisoformat(str(bucket)[:10]),
                int(count),
                float(seconds or 0.0),
                float(size) if size is not None else None,
            )
            for target, bucket, count, seconds, size in rows
        ]

    async def outside(self, target: str) -> frozenset[Bound]:
        found = await self._session.scalar(
            select(PerformanceStateRow.outside).where(PerformanceStateRow.target == target)
        )
        return _decode(found) if found else frozenset()

    async def set_outside(
        self, target: str, before: frozenset[Bound], after: frozenset[Bound], at: datetime
    ) -> bool:
        changed = await self._session.execute(
            update(PerformanceStateRow)
            .where(
                PerformanceStateRow.target == target,
                PerformanceStateRow.outside == _encode(before),
            )
            .values(outside=_encode(after), updated_at=at)
            .execution_options(synchronize_session=False)
        )
        if getattr(changed, "rowcount", 0):
            return True
        if before:  # the row said something else: another transaction got there first
            return False
        try:  # never judged: the first one to insert the row wins
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(PerformanceStateRow).values(
                        target=target, outside=_encode(after), updated_at=at
                    )
                )
        except IntegrityError:
            return False
        return True
