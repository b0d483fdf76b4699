"""Many jobs and notes written fast, with Core inserts (no ORM objects), for tests that need
more rows than one fetch batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import AnnotationRow, JobRow

CHUNK = 10_000  # rows per statement batch: bounded memory whatever the count


def job_values(number: int, created_at: datetime) -> dict[str, Any]:
    """Job #number, a succeeded user run of 30 s; its requester is `person <number>`."""
    return {
        "id": number,
        "target": f"site-{number % 7 + 1}",
        "state": "succeeded",
        "origin_kind": "user",
        "origin_platform": "slack",
        "origin_workspace": "T1",
        "origin_channel": "C1",
        "origin_reference": "",
        "requester": "slack:T1:U1",
        "requester_name": f"person {number}",
        "created_at": created_at,
        "started_at": created_at,
        "finished_at": created_at + timedelta(seconds=30),
        "file_count": 10,
        "size_bytes": 1_000,
        "sha256": "ab" * 32,
        "cancel_requested": False,
    }


def note_values(job_id: int, index: int, created_at: datetime) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "kind": "note",
        "text": f"note {index} of job {job_id}",
        "author": "slack:T1:U9",
        "author_name": "Nina",
        "created_at": created_at + timedelta(minutes=1),
        "link": "",
    }


async def seed_jobs(
    engine: AsyncEngine,
    count: int,
    first_at: datetime,
    *,
    notes_per_job: Callable[[int], int] = lambda _: 0,
) -> None:
    """Jobs #1..#count, one a second from `first_at`, each with `notes_per_job(id)` notes."""
    for start in range(1, count + 1, CHUNK):
        numbers = range(start, min(start + CHUNK, count + 1))
        jobs = [job_values(n, first_at + timedelta(seconds=n - 1)) for n in numbers]
        notes = [
            note_values(n, k, first_at + timedelta(seconds=n - 1))
            for n in numbers
            for k in range(notes_per_job(n))
        ]
        async with engine.begin() as connection:
            await connection.execute(insert(cast(Table, JobRow.__table__)), jobs)
            if notes:
                await connection.execute(insert(cast(Table, AnnotationRow.__table__)), notes)
    if engine.dialect.name == "postgresql":  # ids were given: move the sequence past them
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('jobs', 'id'), (SELECT max(id) FROM jobs))"
            )
