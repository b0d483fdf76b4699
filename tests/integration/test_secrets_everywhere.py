"""G3 end to end: every shape of the secret corpus, printed by a failing job and typed by a
person, reaches no output — chat replies on every platform, alerts and webhook payloads, the
job page, the audit log, the exports, and the server's own log.

One real command job per shape (the executor runs `sh`, which prints the shape to stderr and
fails), on the storage of every database, through the service a chat adapter calls.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.console.render import render as console_render
from adapters.discord.render import render as discord_render
from adapters.slack.render import render as slack_render
from adapters.teams.cards import message_activity
from adapters.webhooks.render import payload
from bot.bootstrap import PLATFORMS, WEBHOOK_RENDERERS
from bot.pages import page
from core.app.service import CommandService
from core.clock import SystemClock
from core.delivery.webhooks import WebhookFormat
from core.domain.capabilities import Role
from core.domain.events import job_ended_event
from core.domain.model import CONFIG_GRANTOR, Actor, Grant, Principal, TargetKind, TargetSpec
from core.domain.subscriptions import classify
from core.i18n import Translator
from core.jobs.executor import JobExecutor
from core.jobs.export import ExportFormat, export_jobs
from core.jobs.runners.command import CommandRunner
from core.views.alerts import AlertSettings, alert_message
from core.views.message import Message
from storage import SqlJobArchive, SqlUnitOfWorkFactory
from storage.tables import AuditRow
from tests.data.secret_corpus import SHAPES, Shape

ALICE = Actor(Principal("console", "", "alice"), "alice", "en", channel="console")
webhook_payload = partial(payload, renderers=WEBHOOK_RENDERERS)
SETTINGS = AlertSettings(public_url="http://127.0.0.1:8080", link_secret=b"k" * 32)


def _strings(value: Any) -> Iterator[str]:
    """Every string in a rendered payload, as its reader sees it (escapes undone)."""
    if isinstance(value, str):
        yield html.unescape(value).replace("\\", "")
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _renderings(message: Message) -> dict[str, Any]:
    """The message as every chat platform and webhook format would carry it."""
    shown: dict[str, Any] = {
        "console": console_render(message),
        "slack": slack_render(message),
        "teams": message_activity(message),
        "discord": discord_render(message),
        "page": page(message, "en"),
    }
    for fmt in WebhookFormat:
        shown[f"webhook {fmt.value}"] = webhook_payload(fmt, message, "delivery-1")
    return shown


def _leaks(shape: Shape, where: str, value: Any) -> list[str]:
    return [
        f"{shape.name}: {secret!r} in {where}"
        for text in _strings(value)
        for secret in shape.secrets
        if secret in text
    ]


@pytest.fixture
def leaky(tmp_path: Path) -> TargetSpec:
    """A target whose command prints the file `stderr.txt` to stderr and fails."""
    script = 'cat "$0" >&2; exit 3'
    return TargetSpec(
        "leaky", TargetKind.COMMAND, command=("sh", "-c", script, str(tmp_path / "stderr.txt"))
    )


async def test_no_secret_of_the_corpus_reaches_any_output(
    uow_factory: SqlUnitOfWorkFactory,
    engine: AsyncEngine,
    leaky: TargetSpec,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)  # the server's level; our own code's debug lines too
    for ours in ("core", "storage", "bot", "adapters"):
        caplog.set_level(logging.DEBUG, logger=ours)
    clock = SystemClock()
    targets = {leaky.name: leaky}
    executor = JobExecutor(uow_factory, targets, CommandRunner, clock, worker="host:1")
    service = CommandService(uow_factory, targets, clock, executor, platforms=PLATFORMS)
    async with uow_factory() as uow:
        await uow.grants.add(Grant(ALICE.principal, Role.ADMIN, None, CONFIG_GRANTOR, clock.now()))
        await uow.commit()
    t = Translator("en")

    leaks: list[str] = []
    for shape in SHAPES:
        (tmp_path / "stderr.txt").write_text(shape.line + "\n")
        started = await service.execute_text("run leaky", ALICE)
        job_id = started.job_id
        assert job_id is not None, started.text
        await executor.idle()
        # A person pastes the same line into a note, and into a command the bot cannot parse.
        one_line = shape.line.replace("\n", " ")
        noted = await service.execute_text(f"annotate {job_id} {one_line}", ALICE)
        refused = await service.execute_text(f"status {one_line}", ALICE)

        async with uow_factory(read_only=True) as uow:
            job = await uow.jobs.get(job_id)
        assert job is not None and job.state.value == "failed", job
        event = job_ended_event(job)
        classified = classify(event)
        assert classified is not None
        replies = {
            "status reply": await service.execute_text(f"status {job_id}", ALICE),
            "log tail reply": await service.execute_text(f"log {job_id}", ALICE),
            "note reply": noted,
            "refusal": refused,
            "alert": alert_message(t, event, *classified, SETTINGS, clock.now(), job),
            "job page": await service.job_view(job_id),
        }
        for name, message in replies.items():
            assert message is not None
            for surface, shown in _renderings(message).items():
                leaks += _leaks(shape, f"{name} on {surface}", shown)
        leaks += _leaks(shape, "the stored job", [job.error or ""])
        leaks += _leaks(shape, "the outbox event", event.payload)

    async with engine.connect() as connection:
        audit = [row.detail for row in await connection.execute(select(AuditRow))]
    since, until = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1)
    archive = SqlJobArchive(engine)
    exports = {
        fmt: "".join([chunk async for chunk in export_jobs(archive.batches(since, until), fmt)])
        for fmt in ExportFormat
    }
    for shape in SHAPES:
        leaks += _leaks(shape, "the audit log", audit)
        for fmt, exported in exports.items():
            leaks += _leaks(shape, f"the {fmt.value} export", exported)
        leaks += _leaks(shape, "the server log", caplog.text)
    assert not leaks, "\n".join(leaks)
