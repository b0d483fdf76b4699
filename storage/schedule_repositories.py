"""SQLAlchemy implementations of the schedule, schedule-fire and draft ports (B5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.model import Principal
from core.domain.schedules import (
    OPEN_DRAFT_STATES,
    Decision,
    Draft,
    DraftState,
    NewDraft,
    Retention,
    Schedule,
    ScheduleSpec,
    Verdict,
)
from core.errors import StaleAction
from storage.tables import DecisionRow, DraftRow, ScheduleFireRow, ScheduleRow

_OPEN = [state.value for state in OPEN_DRAFT_STATES]


def _spec(row: ScheduleRow | DraftRow) -> ScheduleSpec:
    return ScheduleSpec(
        row.cron, row.timezone, Retention(row.keep_count, row.keep_days), tuple(row.exclude)
    )


def _spec_columns(spec: ScheduleSpec) -> dict[str, Any]:
    """The columns a schedule version and a draft both store."""
    return {
        "cron": spec.cron,
        "timezone": spec.timezone,
        "keep_count": spec.retention.keep_count,
        "keep_days": spec.retention.keep_days,
        "exclude": list(spec.exclude),
    }


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(
        row.id,
        row.target,
        row.version,
        _spec(row),
        row.draft_id,
        row.activated_at,
        row.activated_by,
    )


class SqlScheduleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def active(self, target: str) -> Schedule | None:
        row = await self._session.scalar(
            select(ScheduleRow).where(ScheduleRow.target == target, ScheduleRow.active)
        )
        return _schedule(row) if row else None

    async def all_active(self) -> Sequence[Schedule]:
        rows = await self._session.scalars(
            select(ScheduleRow).where(ScheduleRow.active).order_by(ScheduleRow.target)
        )
        return [_schedule(row) for row in rows]

    async def get(self, schedule_id: int) -> Schedule | None:
        row = await self._session.get(ScheduleRow, schedule_id, populate_existing=True)
        return _schedule(row) if row else None

    async def is_active(self, schedule_id: int) -> bool:
        active = await self._session.scalar(
            select(ScheduleRow.active).where(ScheduleRow.id == schedule_id)
        )
        return bool(active)

    async def activate(
        self, target: str, spec: ScheduleSpec, draft_id: int | None, at: datetime, by: str
    ) -> Schedule:
        await self._session.execute(
            update(ScheduleRow)
            .where(ScheduleRow.target == target, ScheduleRow.active)
            .values(active=False)
        )
        latest = await self._session.scalar(
            select(func.max(ScheduleRow.version)).where(ScheduleRow.target == target)
        )
        row = ScheduleRow(
            target=target,
            version=(latest or 0) + 1,
            **_spec_columns(spec),
            draft_id=draft_id,
            active=True,
            activated_at=at,
            activated_by=by,
        )
        self._session.add(row)
        await self._session.flush()
        return _schedule(row)


class SqlScheduleFireRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self, schedule_id: int, fire_time: datetime, outcome: str, at: datetime
    ) -> bool:
        try:
            async with self._session.begin_nested():
                self._session.add(
                    ScheduleFireRow(
                        schedule_id=schedule_id,
                        fire_time=fire_time,
                        outcome=outcome,
                        recorded_at=at,
                    )
                )
        except IntegrityError:
            return False  # the unique (schedule, fire time) says someone recorded it already
        return True

    async def attach_job(self, schedule_id: int, fire_time: datetime, job_id: int) -> None:
        await self._session.execute(
            update(ScheduleFireRow)
            .where(
                ScheduleFireRow.schedule_id == schedule_id, ScheduleFireRow.fire_time == fire_time
            )
            .values(job_id=job_id)
            .execution_options(synchronize_session=False)
        )

    async def last(self, schedule_id: int) -> datetime | None:
        latest: datetime | None = await self._session.scalar(
            select(func.max(ScheduleFireRow.fire_time)).where(
                ScheduleFireRow.schedule_id == schedule_id
            )
        )
        if latest is not None and latest.tzinfo is None:  # max() bypasses the column type
            latest = latest.replace(tzinfo=UTC)
        return latest


class SqlDraftRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new_draft: NewDraft) -> Draft:
        spec = new_draft.spec
        row = DraftRow(
            target=new_draft.target,
            author=new_draft.author.key,
            author_name=new_draft.author_name,
            version=1,
            revision=0,
            state=DraftState.OPEN.value,
            **_spec_columns(spec),
            created_at=new_draft.created_at,
            updated_at=new_draft.created_at,
            expires_at=new_draft.expires_at,
        )
        self._session.add(row)
        await self._session.flush()
        return await self._draft(row)

    async def get(self, draft_id: int) -> Draft | None:
        row = await self._session.get(DraftRow, draft_id, populate_existing=True)
        return await self._draft(row) if row else None

    async def open_by_author(self, target: str, author: Principal) -> Draft | None:
        row = await self._session.scalar(
            select(DraftRow)
            .where(DraftRow.target == target, DraftRow.author == author.key)
            .where(DraftRow.state.in_(_OPEN))
            .order_by(DraftRow.id.desc())
            .limit(1)
        )
        return await self._draft(row) if row else None

    async def open_drafts(self) -> Sequence[Draft]:
        rows = await self._session.scalars(
            select(DraftRow).where(DraftRow.state.in_(_OPEN)).order_by(DraftRow.id)
        )
        return [await self._draft(row) for row in rows.all()]

    async def save(self, draft: Draft) -> None:
        spec = draft.spec
        # Compare-and-set on the revision: of two racing approvals, the second updates no row.
        result = await self._session.execute(
            update(DraftRow)
            .where(DraftRow.id == draft.id, DraftRow.revision == draft.revision)
            .values(
                revision=draft.revision + 1,
                version=draft.version,
                state=draft.state.value,
                **_spec_columns(spec),
                updated_at=draft.updated_at,
                expires_at=draft.expires_at,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise StaleAction("error.draft_raced", draft=draft.id)
        stored = await self._session.scalar(
            select(func.count()).select_from(DecisionRow).where(DecisionRow.draft_id == draft.id)
        )
        for decision in draft.decisions[stored or 0 :]:  # decisions are append-only
            self._session.add(
                DecisionRow(
                    draft_id=draft.id,
                    reviewer=decision.reviewer.key,
                    reviewer_name=decision.reviewer_name,
                    verdict=decision.verdict.value,
                    draft_version=decision.draft_version,
                    comment=decision.comment,
                    at=decision.at,
                )
            )
        await self._session.flush()
        draft.revision += 1

    async def _draft(self, row: DraftRow) -> Draft:
        decisions = await self._session.scalars(
            select(DecisionRow).where(DecisionRow.draft_id == row.id).order_by(DecisionRow.id)
        )
        return Draft(
            id=row.id,
            target=row.target,
            author=Principal.parse(row.author),
            author_name=row.author_name,
            version=row.version,
            spec=_spec(row),
            state=DraftState(row.state),
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
            decisions=[
                Decision(
                    Principal.parse(d.reviewer),
                    d.reviewer_name,
                    Verdict(d.verdict),
                    d.draft_version,
                    d.at,
                    d.comment,
                )
                for d in decisions
            ],
            revision=row.revision,
        )
