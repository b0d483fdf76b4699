"""Many rows in one statement, a duplicate (by a unique key) left as it is.

The dispatcher writes thousands of deliveries and outcomes a second; one ORM object and one
savepoint per row cost ~2 ms each on SQLite, one multi-row statement ~0.05 ms a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """One statement, compiled once and cached, given every row: SQLAlchemy sends them in
    multi-row batches ("insertmanyvalues")."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(table).on_conflict_do_nothing(), [dict(row) for row in rows])


async def insert_if_new(session: AsyncSession, table: Table, row: Mapping[str, Any]) -> bool:
    """One row, unless its unique key is taken: True when it was inserted. One statement
    where a savepoint around an ORM insert takes three (and ~2 ms on SQLite)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(insert(table).values(**row).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))
