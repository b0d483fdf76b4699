"""The one composition root: settings in, a wired `Bot` out (STYLE.md: cosmicpython bootstrap).

`open_bot` is an async context manager: it migrates an empty database, syncs the grants that
come from configuration, recovers jobs whose worker died, sweeps partial archives, and on exit
stops running jobs (recorded as interrupted) and closes the database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from core.app.service import CommandService
from core.clock import SystemClock
from core.delivery.pacing import Pacer
from core.domain.capabilities import Role
from core.domain.model import CONFIG_GRANTOR, Grant, Principal, TargetKind, TargetSpec
from core.jobs.executor import JobExecutor
from core.jobs.runners import Runner
from core.jobs.runners.archive import ArchiveRunner, sweep_partial_archives
from core.jobs.runners.command import CommandRunner
from core.ports import Clock
from core.views.alerts import AlertSettings
from storage import SqlUnitOfWorkFactory, open_engine
from storage.audit_writer import BatchedAuditWriter
from storage.migrate import ensure_schema

log = logging.getLogger(__name__)


@dataclass
class Bot:
    settings: Settings
    engine: AsyncEngine
    uow_factory: SqlUnitOfWorkFactory
    targets: dict[str, TargetSpec]
    clock: Clock
    executor: JobExecutor
    service: CommandService
    audit_writer: BatchedAuditWriter
    alerts: AlertSettings
    # One token bucket per destination, shared by everything that posts proactively.
    pacer: Pacer = field(default_factory=Pacer)


def runner_for(spec: TargetSpec) -> Runner:
    if spec.kind is TargetKind.COMMAND:
        return CommandRunner(spec)
    return ArchiveRunner(spec)


@asynccontextmanager
async def open_bot(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Bot]:
    clock = clock or SystemClock()
    async with open_engine(settings.database_url) as engine:
        await ensure_schema(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        targets = settings.target_specs()
        executor = JobExecutor(uow_factory, targets, runner_for, clock)
        audit_writer = BatchedAuditWriter(uow_factory)
        service = CommandService(
            uow_factory,
            targets,
            clock,
            executor,
            workspaces=settings.served_workspaces(),
            draft_ttl=settings.draft_ttl,
            audit_sink=audit_writer,
            webhook_allow_private=settings.webhook_allow_private,
        )
        bot = Bot(
            settings,
            engine,
            uow_factory,
            targets,
            clock,
            executor,
            service,
            audit_writer,
            alert_settings(settings),
        )
        await sync_configured_grants(bot)
        await executor.recover()
        _sweep_archives(targets)
        await audit_writer.start()
        try:
            yield bot
        finally:
            try:
                await executor.shutdown(settings.shutdown_grace_seconds)
            finally:
                await audit_writer.close()  # what is queued is written before the engine closes


def alert_settings(settings: Settings) -> AlertSettings:
    """Links in alerts are signed with EXPORTBOT_LINK_SECRET; without one, a key made now
    signs them, and they stop working when this process ends."""
    if settings.link_secret is not None:
        secret = settings.link_secret.get_secret_value().encode()
    else:
        secret = secrets.token_bytes(32)
        if not settings.is_demo:
            log.warning("EXPORTBOT_LINK_SECRET is not set: job links die with this process")
    return AlertSettings(
        settings.public_url,
        secret,
        timedelta(hours=settings.link_ttl_hours),
        dict(settings.runbooks),
        group_window=timedelta(minutes=settings.alert_group_minutes),
        digest_per_minute=settings.alert_digest_per_minute,
    )


async def sync_configured_grants(bot: Bot) -> None:
    """Make the grants marked as coming from configuration equal the configuration's.

    Processes starting together may race to insert the same grants: the loser retries and
    then finds them there.
    """
    for attempt in range(3):
        try:
            await _sync_grants_once(bot)
            return
        except IntegrityError:
            if attempt == 2:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))


async def _sync_grants_once(bot: Bot) -> None:
    wanted: set[tuple[Principal, Role, str | None]] = set(bot.settings.bootstrap_grants())
    async with bot.uow_factory() as uow:
        for grant in await uow.grants.all():
            key = (grant.principal, grant.role, grant.target)
            if grant.from_configuration and key not in wanted:
                await uow.grants.remove(*key)
                log.info("configuration no longer grants %s %s", grant.principal, grant.role)
            wanted.discard(key)
        for principal, role, target in sorted(wanted, key=str):
            await uow.grants.add(Grant(principal, role, target, CONFIG_GRANTOR, bot.clock.now()))
        await uow.commit()


def _sweep_archives(targets: dict[str, TargetSpec]) -> None:
    for spec in targets.values():
        if spec.kind is TargetKind.ARCHIVE and Path(spec.archive_dir).is_dir():
            for removed in sweep_partial_archives(spec.archive_dir):
                log.warning("removed a partial archive left by a crash: %s", removed)
