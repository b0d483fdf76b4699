"""Alembic environment. Run through `storage.migrate`, which hands over a live connection
(so it works with the async engine); no logging setup here, the application owns logging."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Plain `alembic` command line with a synchronous URL (development only).
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as sync_connection:
        context.configure(connection=sync_connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
