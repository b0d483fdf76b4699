"""Migrated databases for storage tests: SQLite in the test's directory, or PostgreSQL (when
EXPORTBOT_TEST_PG_URL is set) in a schema of its own, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import create_engine, upgrade

PG_URL_VARIABLE = "EXPORTBOT_TEST_PG_URL"


def pg_url() -> str:
    url = os.environ.get(PG_URL_VARIABLE, "")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_URL_VARIABLE} must be set in CI: the PostgreSQL tests must run")
        pytest.skip(f"{PG_URL_VARIABLE} is not set; PostgreSQL storage tests skipped")
    return url


@asynccontextmanager
async def migrated_engine(backend: str, directory: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database at the latest migration; `backend` is `sqlite` or
    `postgresql` (skipped, with the reason, when no server is configured)."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{directory / 'test.db'}")
        try:
            await upgrade(engine)
            yield engine
        finally:
            await engine.dispose()
        return
    url = pg_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            # A test that left a stream open holds a lock on its tables: fail its teardown
            # after a while instead of hanging the whole suite.
            await connection.execute(text("SET LOCAL lock_timeout = '30s'"))
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
