"""Alembic migrations driven from code (no alembic.ini at the root): `exportbot db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
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


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
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
