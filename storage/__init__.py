"""SQLAlchemy 2 (async) storage behind the core's ports: SQLite by default, PostgreSQL too."""

from storage.database import create_engine, open_engine
from storage.job_archive import SqlJobArchive
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

__all__ = ["SqlJobArchive", "SqlUnitOfWorkFactory", "create_engine", "open_engine", "upgrade"]
