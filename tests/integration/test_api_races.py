"""The job-event API under races, on SQLite and PostgreSQL (#16): two finishes of one run,
and two starts of one run id, sent at once: one wins, the other is refused as a replay, and
the run ends (or starts) once."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from core.api.admin import create_key
from core.api.problems import ApiProblem
from core.api.service import ApiService, Operation
from core.api.signature import sign
from core.clock import SystemClock
from core.domain.model import Actor, Principal, TargetKind, TargetSpec
from storage import SqlUnitOfWorkFactory

MASTER = b"r" * 32
OPERATOR = Actor(Principal("cli", "", "ops"), "ops")


async def _call(
    api: ApiService, key: str, operation: Operation, rid: str | None, payload: dict[str, Any]
) -> int | str:
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Exportbot-Key": "race",
        "X-Exportbot-Timestamp": stamp,
        "X-Exportbot-Signature": sign(key, stamp, body),
    }
    try:
        return (await api.handle(operation, "db", rid, headers, body)).status
    except ApiProblem as problem:
        return problem.slug


@pytest.fixture
async def api_and_key(uow_factory: SqlUnitOfWorkFactory) -> tuple[ApiService, str]:
    targets = {"db": TargetSpec("db", TargetKind.REPORTED)}
    api = ApiService(uow_factory, targets, SystemClock(), lambda: MASTER)
    return api, await create_key(uow_factory, MASTER, SystemClock(), OPERATOR, "race")


async def test_two_finishes_at_once_end_the_run_once(
    api_and_key: tuple[ApiService, str], uow_factory: SqlUnitOfWorkFactory
) -> None:
    api, key = api_and_key
    for attempt in range(5):
        rid = f"r{attempt}"
        assert await _call(api, key, Operation.START, None, {"rid": rid}) == 201
        outcomes = await asyncio.gather(
            _call(api, key, Operation.FINISH, rid, {"exit_status": 0}),
            _call(api, key, Operation.FINISH, rid, {"state": "failed"}),
        )
        assert sorted(map(str, outcomes)) == ["200", "replayed"], outcomes
    async with uow_factory(read_only=True) as uow:
        events = await uow.outbox.pending(limit=100)
    assert len(events) == 5  # one job-ended event a run


async def test_two_starts_of_one_run_id_at_once_make_one_job(
    api_and_key: tuple[ApiService, str], uow_factory: SqlUnitOfWorkFactory
) -> None:
    api, key = api_and_key
    outcomes = await asyncio.gather(
        _call(api, key, Operation.START, None, {"rid": "same", "host": "a"}),
        _call(api, key, Operation.START, None, {"rid": "same", "host": "b"}),
    )
    assert sorted(map(str, outcomes)) in (["201", "replayed"], ["201", "target-busy"]), outcomes
    async with uow_factory(read_only=True) as uow:
        assert len(await uow.jobs.recent(limit=10)) == 1
