"""The one composition root: settings in, a wired and running bot out (STYLE.md: cosmicpython
bootstrap). Entry points (bot/cli.py, bot/app.py) only call it.

- `PLATFORMS`: each adapter package's profile (prefix, pace, local or chat), handed to the core.
- `open_bot`: the core on its database. It migrates an empty database, syncs the grants that
  come from configuration, sweeps partial archives, recovers jobs whose worker died, and on
  exit stops running jobs (recorded as interrupted) and closes the database. The console and
  the tests use it alone.
- `open_server`: `open_bot` plus every platform, the alert dispatcher, the progress editor and
  the scheduler, for `serve`. Every long-lived component is an async context manager
  (core/support/lifecycle.py), entered here in order and left in the reverse order, so the
  database closes last; and `job_ended_subscribers` is the one list of who hears of a job's end.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, partial
from pathlib import Path
from types import MappingProxyType
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import console, discord, slack, teams, webhooks
from adapters.console import ConsoleSession
from adapters.discord import DiscordAdapter
from adapters.discord.webhook import discord_payload
from adapters.slack import SlackAdapter
from adapters.slack.socket_mode import SlackSocketMode
from adapters.slack.webhook import slack_payload
from adapters.teams import TeamsAdapter
from adapters.teams.adapter import TeamsCredentials
from adapters.teams.webhook import teams_payload
from adapters.webhooks import guarded_session, webhook_senders
from adapters.webhooks.render import Renderers
from bot.api_master import load_master_key
from bot.charts import MatplotlibCharts
from bot.config import Settings
from bot.errors import PlatformUnavailable
from bot.keyfiles import load_or_create_key
from bot.metrics import PrometheusTelemetry
from bot.scheduler import SchedulerService
from core.api.service import ApiService, reported_target
from core.app.platforms import Platforms
from core.app.service import CommandService
from core.clock import SystemClock
from core.delivery.dispatcher import Dispatcher
from core.delivery.pacing import Pacer
from core.delivery.sender_keys import SenderKey
from core.delivery.senders import Sender
from core.delivery.webhooks import WebhookFormat
from core.domain.capabilities import Role
from core.domain.model import CONFIG_GRANTOR, Grant, Job, Principal, TargetKind, TargetSpec
from core.exclusions.service import PreviewService
from core.exports.channels import ExportChannels
from core.exports.service import ExportService
from core.exports.store import ExportStore
from core.jobs.deadman import DeadmanWatch
from core.jobs.executor import JobExecutor, JobListener
from core.jobs.performance_watch import PerformanceWatch
from core.jobs.progress import ProgressEditor
from core.jobs.runners import Runner
from core.jobs.runners.archive import ArchiveRunner, sweep_partial_archives
from core.jobs.runners.base import ReportedElsewhere
from core.jobs.runners.command import CommandRunner
from core.jobs.worker import QueueWorker
from core.ports import Clock
from core.safety.redaction import redact
from core.views.alerts import AlertSettings
from storage import SqlJobArchive, SqlUnitOfWorkFactory, open_engine
from storage.audit_writer import BatchedAuditWriter
from storage.database import normalize_url
from storage.migrate import ensure_schema

log = logging.getLogger(__name__)

# Every platform this build speaks, as its adapter package declares it.
PLATFORMS = Platforms(
    (console.PROFILE, slack.PROFILE, teams.PROFILE, discord.PROFILE, webhooks.PROFILE)
)
# Each platform renders its own incoming-webhook body; the webhook senders post them (and our
# own JSON document, which needs no renderer).
WEBHOOK_RENDERERS: Renderers = MappingProxyType(
    {
        WebhookFormat.SLACK: slack_payload,
        WebhookFormat.DISCORD: discord_payload,
        WebhookFormat.TEAMS: teams_payload,
    }
)


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
    performance: PerformanceWatch
    charts: MatplotlibCharts
    exports: ExportService
    export_channels: ExportChannels
    previews: PreviewService
    # This bot's metrics, in a registry of its own (GET /metrics).
    telemetry: PrometheusTelemetry = field(default_factory=PrometheusTelemetry)
    # One token bucket per destination, shared by everything that posts proactively.
    pacer: Pacer = field(default_factory=lambda: Pacer(PLATFORMS.paces()))
    platforms: Platforms = PLATFORMS
    api: ApiService | None = None  # the job-event API (bot/api_http.py), set by open_bot


def job_executor(
    settings: Settings,
    uow_factory: SqlUnitOfWorkFactory,
    targets: dict[str, TargetSpec],
    clock: Clock,
    telemetry: PrometheusTelemetry,
    *,
    worker: bool = False,
) -> JobExecutor:
    """The executor of `serve` and the console, or of `exportbot worker` (which lets running
    jobs finish within the grace when it stops)."""
    return JobExecutor(
        uow_factory,
        targets,
        runner_for,
        clock,
        grace_seconds=settings.shutdown_grace_seconds,
        telemetry=telemetry,
        stale_after=timedelta(seconds=settings.job_lease_seconds),
        runs_locally=settings.runs_locally,
        auto_resume_attempts=settings.auto_resume_attempts,
        finish_at_shutdown=worker,
        hold_before_start=_test_hold(),
    )


def _test_hold() -> Callable[[], Awaitable[None]] | None:
    """The end-to-end tests' window between a job's claim and its start (E1): while the file
    named by EXPORTBOT_TESTING_HOLD_BEFORE_START exists, a claimed job waits to start."""
    path = os.environ.get(HOLD_VARIABLE, "")
    if not path:
        return None

    async def hold() -> None:
        # A file polled, not an event: the test process holding it is another process.
        while await asyncio.to_thread(os.path.exists, path):  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    return hold


HOLD_VARIABLE = "EXPORTBOT_TESTING_HOLD_BEFORE_START"


class WorkerNeedsPostgres(Exception):
    """`exportbot worker` was pointed at SQLite, which other hosts cannot share."""


@asynccontextmanager
async def open_worker(
    settings: Settings, targets: Sequence[str], *, clock: Clock | None = None
) -> AsyncIterator[QueueWorker]:
    """`exportbot worker` (E4): the executor on the shared PostgreSQL database, claiming jobs of
    `targets`. Its jobs' ends are judged against the performance bounds here; their alerts and
    chat updates leave through `serve`'s dispatcher, from the outbox."""
    if make_url(normalize_url(settings.database_url)).get_backend_name() != "postgresql":
        raise WorkerNeedsPostgres(
            "exportbot worker needs PostgreSQL: workers on other hosts share the job queue "
            "through it, and the database_url is not a postgresql+asyncpg:// address."
        )
    clock = clock or SystemClock()
    async with open_engine(settings.database_url) as engine:
        await ensure_schema(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        specs = settings.target_specs()
        telemetry = PrometheusTelemetry(specs)
        executor = job_executor(settings, uow_factory, specs, clock, telemetry, worker=True)
        executor.subscribe(PerformanceWatch(uow_factory, specs, clock).job_ended)
        _sweep_archives({name: specs[name] for name in targets})
        worker = QueueWorker(
            executor,
            targets,
            poll_seconds=settings.worker_poll_seconds,
            parallel=settings.worker_parallel_jobs,
        )
        # Left in the reverse order: no new claim, then running jobs get their grace.
        async with executor, worker:
            yield worker


def runner_for(spec: TargetSpec) -> Runner:
    if spec.kind is TargetKind.REPORTED:
        return ReportedElsewhere(spec.name)
    if spec.kind is TargetKind.COMMAND:
        return CommandRunner(spec)
    return ArchiveRunner(spec)


@asynccontextmanager
async def open_bot(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Bot]:
    """The core on its database, started; on exit, stopped and the database closed."""
    clock = clock or SystemClock()
    async with open_engine(settings.database_url) as engine:
        await ensure_schema(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        targets = settings.target_specs()
        await _add_provisioned_targets(uow_factory, targets)
        telemetry = PrometheusTelemetry(targets)
        executor = job_executor(settings, uow_factory, targets, clock, telemetry)
        audit_writer = BatchedAuditWriter(uow_factory)
        alerts = alert_settings(settings)
        charts = MatplotlibCharts(settings.public_url, alerts.link_secret, clock, alerts.link_ttl)
        service = CommandService(
            uow_factory,
            targets,
            clock,
            executor,
            platforms=PLATFORMS,
            workspaces=settings.served_workspaces(),
            draft_ttl=settings.draft_ttl,
            audit_sink=audit_writer,
            webhook_allow_private=settings.webhook_allow_private,
            telemetry=telemetry,
            charts=charts,
            pages=alerts.pages,
            tour_offers=True,
        )
        channels = ExportChannels(PLATFORMS)
        exports = ExportService(
            uow_factory,
            SqlJobArchive(engine),
            ExportStore(settings.exports_root, alerts.link_ttl),
            clock,
            channels,
            base_url=settings.public_url,
            secret=alerts.link_secret,
            audit_sink=audit_writer,
            every=settings.progress_every_seconds,
        )
        service.exports = exports
        previews = PreviewService(channels, every=settings.progress_every_seconds)
        service.previews = previews
        bot = Bot(
            settings,
            engine,
            uow_factory,
            targets,
            clock,
            executor,
            service,
            audit_writer,
            alerts,
            PerformanceWatch(uow_factory, targets, clock),
            charts,
            exports,
            channels,
            previews,
            telemetry,
        )
        bot.api = ApiService(
            uow_factory,
            targets,
            clock,
            cache(partial(load_master_key, settings.api_master_key_path)),
            audit_sink=audit_writer,
            job_ended=executor.ended_elsewhere,
        )
        await sync_configured_grants(bot)
        _sweep_archives(targets)
        # Left in the reverse order: exports under way stop first, then the executor (running
        # jobs recorded as interrupted) while the audit writer still runs, and what it has
        # queued is written before the engine closes.
        async with (
            audit_writer,
            executor,
            exports,
            previews,
        ):  # the executor's start recovers orphans
            yield bot


@asynccontextmanager
async def open_console(
    settings: Settings, user: str, *, locale: str, out: TextIO | None = None
) -> AsyncIterator[ConsoleSession]:
    """The core and one console session, which hears of the end of every job (C3) and shows
    its `audit` exports (written to `out`, standard output by default)."""
    async with open_bot(settings) as bot:
        session = ConsoleSession(
            bot.service,
            bot.executor,
            user,
            locale=locale,
            image_dir=Path(settings.data_dir) / "charts",
            out=out,
            exports=bot.exports,
            previews=bot.previews,
        )
        bot.executor.subscribe(bot.performance.job_ended, session.on_job_ended)
        bot.export_channels.use_local(console.PROFILE.name, session.export_channel)
        yield session


@dataclass
class Server:
    """What `open_server` started; the aiohttp app keeps it for its routes."""

    bot: Bot
    dispatcher: Dispatcher
    progress: ProgressEditor
    scheduler: SchedulerService | None = None
    slack: SlackAdapter | None = None
    teams: TeamsAdapter | None = None
    discord: DiscordAdapter | None = None
    live: list[str] = field(default_factory=list)  # the platforms answering, for the log


@asynccontextmanager
async def open_server(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Server]:
    """The whole bot for `serve`: started in this order, stopped in the reverse.

    1. The core (`open_bot`): database, audit writer, executor. Stopped last, so everything
       else is done with the database before it closes.
    2. Slack (and its Socket Mode client after it: stopped first, so no new work arrives while
       the adapter ends its background tasks), Teams (its stop waits for turns in flight),
       Discord (its stop waits for its follow-ups). Their start learns who the bot is, which
       the dispatcher's senders need.
    3. The webhooks' HTTP session, the dispatcher and the progress editor.
    4. The scheduler, last: jobs it fires find every subscriber of their end in place; and
       stopped first, so none fires while the rest stop.
    """
    async with AsyncExitStack() as stack:
        bot = await stack.enter_async_context(open_bot(settings, clock=clock))
        server_slack, socket = _slack(bot)
        server_teams, server_discord = _teams(bot), _discord(bot)
        live = ["console"]
        if server_slack is not None:
            async with _starting("Slack", "auth.test", settings.slack_api_url):
                await stack.enter_async_context(server_slack)
            if socket is not None:
                await stack.enter_async_context(socket)
            live.append("slack (socket mode)" if socket is not None else "slack")
        if server_teams is not None:
            await stack.enter_async_context(server_teams)
            live.append("teams" if server_teams.credentials.configured else "teams (no auth)")
        if server_discord is not None:
            async with _starting("Discord", "the bot's login", settings.discord_api_url):
                await stack.enter_async_context(server_discord)
            live.append("discord (gateway)" if server_discord.gateway is not None else "discord")
        senders = _senders(bot, server_slack, server_teams, server_discord)
        bot.export_channels.use_senders(senders)  # exports show where they were asked
        # Webhooks reach only public addresses unless the operator allows private ones.
        session = await stack.enter_async_context(
            guarded_session(allow_private=settings.webhook_allow_private)
        )
        secret = settings.webhook_secret
        webhook_key = secret.get_secret_value().encode() if secret else b""
        senders.update(webhook_senders(session, _webhook_url(bot), webhook_key, WEBHOOK_RENDERERS))
        dispatcher = Dispatcher(
            bot.uow_factory,
            bot.clock,
            senders,
            bot.alerts,
            platforms=bot.platforms,
            pacer=bot.pacer,
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            telemetry=bot.telemetry,
            charts=bot.charts,
            draft_card=bot.service.draft_card,
            on_draft_expired=lambda draft: [
                listener(draft, "") for listener in bot.service.draft_listeners
            ],
        )
        every = settings.progress_every_seconds
        progress = ProgressEditor(
            bot.uow_factory,
            bot.clock,
            bot.executor,
            senders,
            bot.pacer,
            every=every,
            tick=min(1.0, every / 5),
        )
        bot.executor.subscribe(
            *job_ended_subscribers(
                progress, [server_slack, server_teams, server_discord], dispatcher, bot.performance
            )
        )
        await stack.enter_async_context(dispatcher)
        await stack.enter_async_context(progress)
        scheduler = _scheduler(bot)
        if scheduler is not None:
            bot.service.schedule_listeners.append(scheduler.refresh)
            await stack.enter_async_context(scheduler)
        yield Server(
            bot,
            dispatcher,
            progress,
            scheduler,
            server_slack,
            server_teams,
            server_discord,
            live,
        )


def job_ended_subscribers(
    progress: ProgressEditor,
    chats: Sequence[SlackAdapter | TeamsAdapter | DiscordAdapter | None],
    dispatcher: Dispatcher,
    performance: PerformanceWatch,
) -> list[JobListener]:
    """Who hears of a job's end, in the order they are called (one at a time)."""

    async def wake_dispatcher(_: Job) -> None:
        dispatcher.wake()

    return [
        # First: an edit of the progress already under way lands before a platform's final
        # card, and no later edit starts (it would draw the job as running again).
        progress.job_ended,
        # Each chat redraws the job's card where it was answered and says how it ended there.
        *(chat.on_job_ended for chat in chats if chat is not None),
        # The target's averages against its bounds (C6): a crossing's event is written before
        # the dispatcher wakes, so it leaves with the job's own alerts.
        performance.job_ended,
        # Last: the end's alerts and the requester's private message (C3) were written to the
        # outbox with the job's end; the dispatcher sends them now rather than at its next poll.
        wake_dispatcher,
    ]


@asynccontextmanager
async def _starting(platform: str, step: str, api_url: str) -> AsyncIterator[None]:
    """Name the platform and the step that failed at start, so the error is not mistaken for
    the database's (the CLI's last resort for connection errors)."""
    try:
        yield
    except Exception as error:
        reason = redact(str(error).splitlines()[-1] if str(error) else type(error).__name__)
        raise PlatformUnavailable(
            f"{platform} is not available: {step} at {api_url} failed: {reason}"
        ) from error


def _slack(bot: Bot) -> tuple[SlackAdapter | None, SlackSocketMode | None]:
    """Slack over HTTP (signing secret) and/or Socket Mode (app token)."""
    settings = bot.settings
    secret, app_token = settings.slack_signing_secret, settings.slack_app_token
    if secret is None and app_token is None:
        return None, None
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    adapter = SlackAdapter(
        bot.service,
        bot.clock,
        # Socket Mode needs no signature; the HTTP route exists only when a secret is set.
        signing_secret=secret.get_secret_value() if secret else "",
        token=token,
        api_url=settings.slack_api_url,
        pacer=bot.pacer,
    )
    socket = SlackSocketMode(adapter.app, app_token.get_secret_value()) if app_token else None
    return adapter, socket


def _teams(bot: Bot) -> TeamsAdapter | None:
    settings = bot.settings
    if not settings.teams_enabled:
        return None
    secret = settings.teams_client_secret
    credentials = TeamsCredentials(
        settings.teams_client_id,
        secret.get_secret_value() if secret else "",
        settings.teams_tenant_id,
    )
    if not credentials.configured:
        log.warning("Teams runs unauthenticated (no client id): loopback only")
    return TeamsAdapter(
        bot.service, bot.clock, credentials, grace_seconds=settings.shutdown_grace_seconds
    )


def _discord(bot: Bot) -> DiscordAdapter | None:
    """Discord interactions over HTTP (public key), and its REST API (bot token)."""
    settings = bot.settings
    if not settings.discord_public_key:
        return None
    token = settings.discord_bot_token
    if token is None:
        log.warning("Discord has no bot token: no alerts, job messages or slow answers there")
        if settings.discord_gateway:
            log.warning("DISCORD_GATEWAY needs DISCORD_BOT_TOKEN: the gateway stays off")
    return DiscordAdapter(
        bot.service,
        bot.clock,
        public_key=settings.discord_public_key,
        token=token.get_secret_value() if token else "",
        application_id=settings.discord_application_id,
        api_url=settings.discord_api_url,
        gateway=settings.discord_gateway,
    )


def _senders(
    bot: Bot,
    slack_adapter: SlackAdapter | None,
    teams_adapter: TeamsAdapter | None,
    discord_adapter: DiscordAdapter | None,
) -> dict[SenderKey, Sender]:
    """Alerts leave through the senders of the platforms this process speaks for."""
    senders: dict[SenderKey, Sender] = {}
    if slack_adapter is not None and slack_adapter.team_id:
        senders[SenderKey("slack", slack_adapter.team_id)] = slack_adapter.runtime.sender
    for served in sorted(bot.settings.served_workspaces()):
        key = SenderKey.parse(served)
        if key.platform == "teams" and teams_adapter is not None:
            senders[key] = teams_adapter.sender(key.workspace)
        if key.platform == "discord" and discord_adapter is not None:
            senders[key] = discord_adapter.sender(key.workspace)
    if discord_adapter is not None:
        senders[SenderKey("discord")] = discord_adapter.sender()  # people who DM the bot
    return senders


def _webhook_url(bot: Bot) -> Callable[[str], Awaitable[str | None]]:
    """A webhook's address is read when an alert leaves: it may have changed since."""

    async def webhook_url(webhook_id: str) -> str | None:
        async with bot.uow_factory(read_only=True) as uow:
            webhook = await uow.webhooks.get(int(webhook_id))
        return webhook.url if webhook else None

    return webhook_url


def _scheduler(bot: Bot) -> SchedulerService | None:
    if not bot.settings.scheduler:
        return None
    return SchedulerService(
        bot.engine,
        bot.uow_factory,
        bot.clock,
        bot.executor,
        grace=timedelta(seconds=bot.settings.missed_run_grace_seconds),
        recover=bot.executor.recover,
        watch=DeadmanWatch(bot.uow_factory, bot.targets, bot.clock).check_all,
        unfired=frozenset(
            name for name, spec in bot.targets.items() if spec.kind is TargetKind.REPORTED
        ),
        telemetry=bot.telemetry,
    )


def alert_settings(settings: Settings) -> AlertSettings:
    """Links (job pages, charts, exports) are signed with EXPORTBOT_LINK_SECRET; without one,
    with the key kept in the data folder (bot/keyfiles.py), so they survive a restart and a
    link the console prints opens in `serve` on the same machine."""
    if settings.link_secret is not None:
        secret = settings.link_secret.get_secret_value().encode()
    else:
        secret = load_or_create_key(settings.link_key_file)
    return AlertSettings(
        settings.public_url,
        secret,
        timedelta(hours=settings.link_ttl_hours),
        dict(settings.runbooks),
        group_window=timedelta(minutes=settings.alert_group_minutes),
        digest_per_minute=settings.alert_digest_per_minute,
    )


async def _add_provisioned_targets(
    uow_factory: SqlUnitOfWorkFactory, targets: dict[str, TargetSpec]
) -> None:
    """The `reported` targets API keys created join the configured ones (which win a name)."""
    async with uow_factory(read_only=True) as uow:
        for provisioned in await uow.provisioned_targets.all():
            targets.setdefault(provisioned.name, reported_target(provisioned.name))


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
