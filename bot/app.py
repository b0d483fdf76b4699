"""The one aiohttp application: every route lives here (platform routes join with their issue).

The bot (database, executor) starts and stops in `cleanup_ctx`, so SIGTERM → aiohttp's
graceful exit → running jobs are recorded as interrupted and the database is closed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from sqlalchemy import text

from adapters.discord.adapter import DiscordAdapter
from adapters.slack import SlackAdapter
from adapters.slack.socket_mode import SlackSocketMode
from adapters.teams.adapter import TeamsAdapter, TeamsCredentials, loopback_only
from adapters.teams.manifest import PRIVACY_PATH, TERMS_PATH
from adapters.webhooks import guarded_session, webhook_senders
from bot import pages
from bot.bootstrap import Bot, open_bot
from bot.config import Settings
from bot.errors import PlatformUnavailable
from bot.scheduler import SchedulerService
from core.commands.numbers import whole_number
from core.delivery.dispatcher import Dispatcher
from core.delivery.senders import Sender, SenderKey
from core.domain.model import Job
from core.i18n import Translator
from core.jobs.progress import ProgressEditor
from core.safety.links import job_path, verify
from core.safety.redaction import redact
from core.safety.text import cut

log = logging.getLogger(__name__)

BOT_KEY = web.AppKey("bot", Bot)
SCHEDULER_KEY = web.AppKey("scheduler", SchedulerService)
SLACK_KEY = web.AppKey("slack", SlackAdapter)
TEAMS_KEY = web.AppKey("teams", TeamsAdapter)
DISCORD_KEY = web.AppKey("discord", DiscordAdapter)
DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)


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


@asynccontextmanager
async def _slack(bot: Bot) -> AsyncIterator[SlackAdapter | None]:
    """Slack over HTTP (signing secret) and/or Socket Mode (app token)."""
    settings = bot.settings
    secret, app_token = settings.slack_signing_secret, settings.slack_app_token
    if secret is None and app_token is None:
        yield None
        return
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    slack = SlackAdapter(
        bot.service,
        bot.clock,
        # Socket Mode needs no signature; the HTTP route exists only when a secret is set.
        signing_secret=secret.get_secret_value() if secret else "",
        token=token,
        api_url=settings.slack_api_url,
        pacer=bot.pacer,
    )
    socket = SlackSocketMode(slack.app, app_token.get_secret_value()) if app_token else None
    try:
        if token:
            async with _starting("Slack", "auth.test", settings.slack_api_url):
                await slack.start()
        bot.executor.listeners.append(slack.on_job_ended)
        if socket is not None:
            await socket.start()
        yield slack
    finally:
        if socket is not None:
            await socket.close()  # first: no new background work after this
        await slack.close()


@asynccontextmanager
async def _discord(bot: Bot) -> AsyncIterator[DiscordAdapter | None]:
    """Discord interactions over HTTP (public key), and its REST API (bot token)."""
    settings = bot.settings
    if not settings.discord_public_key:
        yield None
        return
    token = settings.discord_bot_token
    discord = DiscordAdapter(
        bot.service,
        bot.clock,
        public_key=settings.discord_public_key,
        token=token.get_secret_value() if token else "",
        application_id=settings.discord_application_id,
        api_url=settings.discord_api_url,
    )
    if token is None:
        log.warning("Discord has no bot token: no alerts, job messages or slow answers there")
    try:
        async with _starting("Discord", "the bot's login", settings.discord_api_url):
            await discord.start()
        bot.executor.listeners.append(discord.on_job_ended)
        yield discord
    finally:
        await discord.close()


async def discord_interactions(request: web.Request) -> web.Response:
    """Discord interactions (Ed25519-signed)."""
    discord = request.app.get(DISCORD_KEY)
    if discord is None:
        return web.json_response({"status": "starting"}, status=503)
    return await discord.handle(request)


class TeamsNotAllowed(Exception):
    """Teams without a client id would accept anyone's activities on a public address."""


@asynccontextmanager
async def _teams(bot: Bot) -> AsyncIterator[TeamsAdapter | None]:
    settings = bot.settings
    if not settings.teams_enabled:
        yield None
        return
    secret = settings.teams_client_secret
    credentials = TeamsCredentials(
        settings.teams_client_id,
        secret.get_secret_value() if secret else "",
        settings.teams_tenant_id,
    )
    if not credentials.configured:
        log.warning("Teams runs unauthenticated (no client id): loopback only")
    teams = TeamsAdapter(bot.service, bot.clock, credentials)
    bot.executor.listeners.append(teams.on_job_ended)
    yield teams


def check_teams_exposure(settings: Settings) -> None:
    """`serve` refuses to expose an unauthenticated Teams endpoint beyond this machine."""
    if settings.teams_enabled and not settings.teams_client_id and not loopback_only(settings.host):
        raise TeamsNotAllowed(
            f"Teams has no client id (CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID), so "
            f"/api/messages would accept unauthenticated activities; it may only listen on a "
            f"loopback address, not {settings.host}. Set the client id, or --host 127.0.0.1."
        )


async def teams_activities(request: web.Request) -> web.StreamResponse:
    """Teams activities (the Agents SDK's protocol)."""
    teams = request.app.get(TEAMS_KEY)
    if teams is None:
        return web.json_response({"status": "starting"}, status=503)
    return await teams.handle(request)


async def slack_events(request: web.Request) -> web.Response:
    """Slash commands, interactivity, shortcuts and events: one URL (ARCHITECTURE.md)."""
    slack = request.app.get(SLACK_KEY)
    if slack is None:
        return web.json_response({"status": "starting"}, status=503)
    return await slack.handle(request)


@asynccontextmanager
async def _dispatcher(
    bot: Bot,
    slack: SlackAdapter | None,
    teams: TeamsAdapter | None,
    discord: DiscordAdapter | None,
) -> AsyncIterator[Dispatcher]:
    """Alerts leave through the senders of the platforms this process speaks for."""
    senders: dict[SenderKey, Sender] = {}
    if slack is not None and slack.team_id:
        senders[SenderKey("slack", slack.team_id)] = slack.runtime.sender
    for served in sorted(bot.settings.served_workspaces()):
        key = SenderKey.parse(served)
        if key.platform == "teams" and teams is not None:
            senders[key] = teams.sender(key.workspace)
        if key.platform == "discord" and discord is not None:
            senders[key] = discord.sender(key.workspace)
    if discord is not None:
        senders[SenderKey("discord")] = discord.sender()  # people who speak to the bot in DMs

    async def webhook_url(webhook_id: str) -> str | None:
        async with bot.uow_factory(read_only=True) as uow:
            webhook = await uow.webhooks.get(int(webhook_id))
        return webhook.url if webhook else None

    secret = bot.settings.webhook_secret
    # Webhooks reach only public addresses unless the operator allows private ones.
    async with guarded_session(allow_private=bot.settings.webhook_allow_private) as session:
        senders.update(
            webhook_senders(
                session, webhook_url, secret.get_secret_value().encode() if secret else b""
            )
        )
        dispatcher = Dispatcher(
            bot.uow_factory,
            bot.clock,
            senders,
            bot.alerts,
            pacer=bot.pacer,
            lease=timedelta(seconds=bot.settings.delivery_lease_seconds),
        )

        async def ended(_: Job) -> None:
            dispatcher.wake()

        bot.executor.listeners.append(ended)
        every = bot.settings.progress_every_seconds
        progress = ProgressEditor(
            bot.uow_factory,
            bot.clock,
            bot.executor,
            senders,
            bot.pacer,
            every=every,
            tick=min(1.0, every / 5),
        )
        # First listener: an edit already under way lands before a platform's final card.
        bot.executor.listeners.insert(0, progress.job_ended)
        async with dispatcher, progress:
            yield dispatcher


@asynccontextmanager
async def _scheduler(bot: Bot) -> AsyncIterator[SchedulerService | None]:
    if not bot.settings.scheduler:
        yield None
        return
    grace = timedelta(seconds=bot.settings.missed_run_grace_seconds)
    service = SchedulerService(
        bot.engine,
        bot.uow_factory,
        bot.clock,
        bot.executor,
        grace=grace,
        recover=bot.executor.recover,
    )
    async with service:
        yield service


async def job_page(request: web.Request) -> web.Response:
    """The page an alert's signed link opens; the signature is the permission (G4)."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    t = Translator(request.headers.get("Accept-Language", "en").split(",")[0])
    job_id = whole_number(request.match_info["job_id"])
    query = request.query
    if job_id is None or not verify(
        bot.alerts.link_secret,
        job_path(job_id),
        query.get("expires", ""),
        query.get("sig", ""),
        bot.clock.now(),
    ):
        shown = cut(request.match_info["job_id"], 40)  # the page names what was asked for
        html = pages.refusal(t, "page.link_invalid", job=shown)
        return web.Response(text=html, status=403, content_type="text/html")
    message = await bot.service.job_view(job_id, t.locale)
    if message is None:
        html = pages.refusal(t, "error.job_not_found", job=job_id)
        return web.Response(text=html, status=404, content_type="text/html")
    return web.Response(text=pages.page(message, t.locale), content_type="text/html")


async def privacy_page(request: web.Request) -> web.Response:
    """Linked from the Teams app listing (its manifest's privacyUrl), and readable by anyone."""
    return _document(request, "privacy")


async def terms_page(request: web.Request) -> web.Response:
    """Linked from the Teams app listing (its manifest's termsOfUseUrl)."""
    return _document(request, "terms")


def _document(request: web.Request, name: str) -> web.Response:
    t = Translator(request.headers.get("Accept-Language", "en").split(",")[0])
    return web.Response(text=pages.document(t, name), content_type="text/html")


# Sent with every response, pages and refusals alike (aiohttp's own 404s and 405s included).
SECURITY_HEADERS = {
    "Content-Security-Policy": pages.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On response prepare rather than a middleware: it also sees the answers aiohttp makes
    itself (an unknown path, a raised HTTPException) and those a platform SDK streams."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def bounded_body(seconds: float) -> Middleware:
    """A request's body is read whole within `seconds` before any handler sees it (they find
    it read: aiohttp keeps it), else 408 and the connection closed: a body trickled a byte at
    a time must not hold a connection and a handler forever."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                response = web.json_response(
                    {"status": "request timeout", "detail": f"body not sent within {seconds} s"},
                    status=408,
                )
                response.force_close()
                return response
        return await handler(request)

    return middleware


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[bounded_body(settings.body_timeout_seconds)])
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/jobs/{job_id}", job_page)
    app.router.add_get("/readyz", readyz)
    app.router.add_get(PRIVACY_PATH, privacy_page)
    app.router.add_get(TERMS_PATH, terms_page)
    if settings.slack_signing_secret is not None:
        app.router.add_post("/slack/events", slack_events)
    if settings.teams_enabled:
        check_teams_exposure(settings)
        app.router.add_post("/api/messages", teams_activities)
    if settings.discord_public_key:
        app.router.add_post("/discord/interactions", discord_interactions)

    async def bot_lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with (
            open_bot(settings) as bot,
            _scheduler(bot) as scheduler,
            _slack(bot) as slack,
            _teams(bot) as teams,
            _discord(bot) as discord,
            _dispatcher(bot, slack, teams, discord) as dispatcher,
        ):
            app[DISPATCHER_KEY] = dispatcher
            app[BOT_KEY] = bot
            if scheduler is not None:
                app[SCHEDULER_KEY] = scheduler
                bot.service.schedule_listeners.append(scheduler.refresh)
            live = ["console"]
            if slack is not None:
                app[SLACK_KEY] = slack
                live.append("slack (socket mode)" if settings.slack_app_token else "slack")
            if teams is not None:
                app[TEAMS_KEY] = teams
                live.append("teams" if teams.credentials.configured else "teams (no auth)")
            if discord is not None:
                app[DISCORD_KEY] = discord
                live.append("discord")
            log.info(
                "exportbot ready: targets %s; platforms live: %s",
                ", ".join(bot.targets),
                ", ".join(live),
            )
            # Everything built so far (SQLAlchemy's metadata, Bolt, the catalog) lives as long
            # as the process: frozen, full collections stop walking it, which took 50-100 ms
            # pauses off the ack tail (bench/slack_ack.py, help at 64 concurrent).
            gc.collect()
            gc.freeze()
            yield

    app.cleanup_ctx.append(bot_lifecycle)
    return app


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers a query."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    try:
        async with bot.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("readiness check failed: %s", type(error).__name__)
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    scheduler = request.app.get(SCHEDULER_KEY)
    role = scheduler.role if scheduler is not None else "off"
    return web.json_response({"status": "ready", "database": "ok", "scheduler": role})
