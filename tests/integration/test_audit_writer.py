"""Group-committed audit entries on SQLite and PostgreSQL: all written, none twice."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.model import AuditEntry, Outcome
from storage import SqlUnitOfWorkFactory
from storage.audit_writer import BatchedAuditWriter

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        T0, "slack:T1:U1", "Ann", "slack", "T1", "C1", "status", Outcome.OK, detail=f"status #{n}"
    )


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM audit_log"))).scalar_one())


async def test_every_appended_entry_is_written_once_in_batches(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    writer = BatchedAuditWriter(uow_factory)
    await writer.start()
    for n in range(1200):
        writer.append(_entry(n))
    await writer.flush()
    assert await _count(engine) == 1200 and writer.written == 1200
    await writer.close()


async def test_closing_writes_what_is_still_queued(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    writer = BatchedAuditWriter(uow_factory)
    for n in range(30):  # never started: everything is still queued at close
        writer.append(_entry(n))
    await writer.close()
    assert await _count(engine) == 30


async def _details(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT detail FROM audit_log ORDER BY id"))
        return [str(row[0]) for row in rows]


async def test_one_bad_row_never_costs_the_others_their_lines(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    # PostgreSQL refuses NUL in text; neither driver can encode a lone surrogate.
    bad_nul = AuditEntry(
        T0, "slack:T1:U9", "Eve", "slack", "T1", "C1", "status", Outcome.OK, detail="status a\0b"
    )
    bad_surrogate = AuditEntry(
        T0,
        "discord:G1:U8",
        "M\udc80l",
        "discord",
        "G1",
        "C2",
        "status",
        Outcome.OK,
        detail="status \udc80",
    )
    writer = BatchedAuditWriter(uow_factory)
    await writer.start()
    for n in range(40):
        writer.append(_entry(n))
    writer.append(bad_nul)
    writer.append(bad_surrogate)
    for n in range(40, 80):
        writer.append(_entry(n))
    await writer.flush()
    await writer.close()

    details = await _details(engine)
    assert [d for d in details if d.startswith("status #")] == [f"status #{n}" for n in range(80)]
    # The bad rows are kept too, their text cleaned where the database refused it (SQLite
    # takes NUL as it is; PostgreSQL does not); a line is never silently lost.
    assert "status ab" in [d.replace("\0", "") for d in details]
    assert "status \ufffd" in details
    assert len(details) == 82 and writer.written == 82
