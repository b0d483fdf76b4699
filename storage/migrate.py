"""Alembic migrations driven from code (no alembic.ini at the root): `exportbot db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaOutdated(Exception):
    """The database is behind the code; `exportbot db upgrade` brings it forward."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


# Any constant will do; it only has to be the same in every exportbot process.
_MIGRATION_LOCK_ID = 0x6578_706F_7274  # "export"


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations. Several processes starting at once on one PostgreSQL database take
    turns on an advisory lock; the later ones find nothing left to do (SQLite's BEGIN IMMEDIATE
    serialises them the same way)."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def ensure_schema(engine: AsyncEngine) -> None:
    """Create the schema of an empty database; refuse to run on an outdated one."""
    current = await current_revision(engine)
    if current is None:
        await upgrade(engine)
        return
    head = head_revision()
    if current != head:
        raise SchemaOutdated(
            f"The database schema is at revision {current}, the code needs {head}: "
            "run `exportbot db upgrade` first."
        )
