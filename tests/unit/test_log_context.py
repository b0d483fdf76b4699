"""Log lines carry their context as fields (H4): bound where work enters, kept apart between
concurrent tasks and jobs, and redacted like the message."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.logs import JsonFormatter, LogContext, RedactSecrets, TextFormatter
from core.clock import FrozenClock
from core.domain.model import NewJob, Origin, OriginKind, Principal, TargetSpec
from core.jobs.executor import JobExecutor
from core.jobs.runners import CancelToken, ProgressCallback, RunResult
from core.support.log_context import bind, current, log_context
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.conftest import TARGETS

TOKEN = "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
log = logging.getLogger("exportbot.test.context")


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the JSON handler writes, as configured by `configure_logging` (filters in order)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(LogContext())
    handler.addFilter(RedactSecrets())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        log.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_bound_fields_are_fields_of_the_line_and_leave_with_their_block(
    lines: io.StringIO,
) -> None:
    with log_context(platform="slack", workspace="T1", request_id="r1"):
        with log_context(job_id=7, target="site-a"):
            log.info("inside")
        log.info("outside the job")
    log.info("after")
    inside, outside, after = parsed(lines)
    assert {k: inside[k] for k in ("platform", "workspace", "request_id", "job_id", "target")} == {
        "platform": "slack",
        "workspace": "T1",
        "request_id": "r1",
        "job_id": 7,
        "target": "site-a",
    }
    assert "job_id" not in outside and outside["platform"] == "slack"
    assert not {"platform", "job_id", "request_id"} & set(after)


def test_an_empty_value_binds_nothing_and_an_unknown_field_is_refused() -> None:
    with log_context(workspace="", job_id=None):
        assert dict(current()) == {}
    with pytest.raises(ValueError, match="user"), log_context(user="U1"):
        pass


def test_a_secret_in_a_field_is_redacted_as_in_the_message(lines: io.StringIO) -> None:
    with log_context(workspace=TOKEN, request_id=f"token={TOKEN}"):
        log.info("a call with %s", TOKEN, extra={"target": f"Bearer {TOKEN}"})
    written = lines.getvalue()
    assert "AbCdEfGhIjKl" not in written
    [line] = parsed(lines)
    assert "[redacted]" in line["workspace"] and "[redacted]" in line["target"]


def test_a_field_someone_sent_cannot_forge_a_text_line() -> None:
    record = logging.LogRecord("exportbot.test", logging.INFO, "", 0, "hello", None, None)
    with log_context(workspace="T1\n2026-12-04 INFO forged"):
        LogContext().filter(record)
        RedactSecrets().filter(record)
    text = TextFormatter().format(record)
    assert text.count("\n") == 0 and "[workspace=T1\\n2026-12-04 INFO forged]" in text


async def test_concurrent_tasks_each_keep_their_own_fields(lines: io.StringIO) -> None:
    both_bound = asyncio.Barrier(2)

    async def request(request_id: str) -> None:
        bind(platform="discord", request_id=request_id)
        await both_bound.wait()  # the other task has bound its own by now
        log.info("answered")

    await asyncio.gather(request("a"), request("b"))
    log.info("the caller")
    *answers, caller = parsed(lines)
    assert sorted(line["request_id"] for line in answers) == ["a", "b"]
    assert "request_id" not in caller  # a task's binding stays in the task


class Chatty:
    """Logs from its worker thread, without naming the job: the context must."""

    def __init__(self) -> None:
        self.together = threading.Barrier(2, timeout=5)

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        log.info("copying files")
        self.together.wait()  # both jobs are running at once
        log.info("files copied")
        return RunResult(file_count=1, size_bytes=10)


async def test_two_concurrent_jobs_lines_carry_their_own_job_and_not_the_request(
    lines: io.StringIO, store: FakeStore, clock: FrozenClock
) -> None:
    runner = Chatty()
    targets = {"demo": TARGETS["demo"], "site-a": TARGETS["site-a"]}

    def runner_for(spec: TargetSpec) -> Chatty:
        return runner

    executor = JobExecutor(store.uow, targets, runner_for, clock, worker="host:1")
    executor.subscribe()
    async with FakeUnitOfWork(store) as uow:
        ids = {}
        for target in targets:
            who = Principal("console", "", "bob")
            job = await uow.jobs.add(
                NewJob(target, Origin(OriginKind.USER, "console"), who, "bob", clock.now())
            )
            ids[job.id] = target
        await uow.commit()
    with log_context(platform="slack", request_id="launching-request"):
        for job_id in ids:
            executor.launch(job_id)
    await executor.idle()
    runner_lines = [line for line in parsed(lines) if line["logger"] == log.name]
    assert len(runner_lines) == 4
    for line in runner_lines:
        assert ids[line["job_id"]] == line["target"]
        assert "request_id" not in line and "platform" not in line
    assert sorted(line["job_id"] for line in runner_lines) == sorted([*ids, *ids])
