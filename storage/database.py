"""Engine creation: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) for several processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

READ_ONLY_OPTION = "exportbot_read_only"
SQLITE_POOL_SIZE = 4

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def normalize_url(url: str) -> str:
    """Give a bare `sqlite://` or `postgresql://` URL its async driver."""
    scheme, sep, rest = url.partition("://")
    return f"{_DRIVERS.get(scheme, scheme)}{sep}{rest}"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, **engine_kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine_kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **engine_kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Each pooled aiosqlite connection is a thread; beyond a few they only fight over the
        # GIL (writers queue on one lock anyway). Measured in bench/slack_ack.py.
        engine_kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        engine_kwargs.setdefault("max_overflow", 0)
    # Sessions end every transaction themselves (commit, or rollback on close); the pool's
    # extra rollback on return is one more trip to the connection's thread per unit of work.
    engine_kwargs.setdefault("pool_reset_on_return", None)
    engine = create_async_engine(url, **engine_kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN breaks savepoints; we emit BEGIN ourselves (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers work during a write; the busy timeout waits instead of failing.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two read-then-write transactions queue
        # on the busy timeout instead of one failing on upgrade. Reads (status, exports) open
        # no transaction at all: each statement reads a consistent snapshot by itself (WAL),
        # and the BEGIN would cost a trip to the connection's thread.
        if not connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@asynccontextmanager
async def open_engine(url: str, **engine_kwargs: Any) -> AsyncIterator[AsyncEngine]:
    """`create_engine` whose connections are closed on leaving the block."""
    engine = create_engine(url, **engine_kwargs)
    try:
        yield engine
    finally:
        await engine.dispose()
