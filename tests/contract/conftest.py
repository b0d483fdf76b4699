"""The contract suite: each repository test runs on the in-memory fakes (tests/fakes.py), on
SQLite and on PostgreSQL (when EXPORTBOT_TEST_PG_URL is set; skipped with that reason when it
is not), so the fakes the unit tests trust cannot drift from the SQL the bot runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.ports import UnitOfWorkFactory
from storage import SqlUnitOfWorkFactory
from tests.databases import migrated_engine
from tests.fakes import FakeStore

BACKENDS = ["fake", "sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
async def uow_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "fake":
        yield FakeStore().uow
        return
    async with migrated_engine(request.param, tmp_path) as engine:
        yield SqlUnitOfWorkFactory(engine)
