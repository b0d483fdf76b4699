"""The one aiohttp application: every route lives here (platform routes join with their issue).

What serves the routes is built and started by the composition root (bot/bootstrap.py,
`open_server`) in the app's `cleanup_ctx`, so SIGTERM → aiohttp's graceful exit → the root
stops everything in order: running jobs are recorded as interrupted and the database closed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import time
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from sqlalchemy import text

from adapters.discord import DiscordAdapter
from adapters.slack import SlackAdapter
from adapters.teams import TeamsAdapter
from adapters.teams.adapter import loopback_only
from bot import charts, pages
from bot.api_http import add_routes, api_problems
from bot.bootstrap import Bot, open_server
from bot.config import Settings
from bot.downloads import serve_export
from bot.manifests.teams import PRIVACY_PATH, TERMS_PATH
from bot.metrics import CONTENT_TYPE
from bot.metrics_http import PLATFORM_PATHS, bearer_matches, new_request_id
from bot.scheduler import SchedulerService
from core.api.service import ApiService
from core.commands.numbers import record_id, whole_number
from core.delivery.dispatcher import Dispatcher
from core.domain.performance import MAX_STATS_DAYS
from core.handlers.performance import load_performance
from core.i18n import Translator
from core.safety.links import (
    PAGE_LOCALES,
    PageLinks,
    chart_path,
    history_path,
    job_path,
    review_path,
    verify,
    verify_page,
)
from core.safety.text import cut
from core.support.log_context import log_context
from core.views.performance import chart

log = logging.getLogger(__name__)

BOT_KEY = web.AppKey("bot", Bot)
# A target name in a page link: what the configuration allows (bot/config.py, _TARGET_NAME).
PAGE_TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SCHEDULER_KEY = web.AppKey("scheduler", SchedulerService)
SLACK_KEY = web.AppKey("slack", SlackAdapter)
TEAMS_KEY = web.AppKey("teams", TeamsAdapter)
DISCORD_KEY = web.AppKey("discord", DiscordAdapter)
DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)


async def discord_interactions(request: web.Request) -> web.Response:
    """Discord interactions (Ed25519-signed)."""
    discord = request.app.get(DISCORD_KEY)
    if discord is None:
        return web.json_response({"status": "starting"}, status=503)
    return await discord.handle(request)


class TeamsNotAllowed(Exception):
    """Teams without a client id would accept anyone's activities on a public address."""


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


def _page_translator(request: web.Request) -> Translator:
    """A page's language: the one its link carries (signed), else the browser's."""
    lang = request.query.get("lang")
    if lang in PAGE_LOCALES:
        return Translator(lang)
    return Translator(request.headers.get("Accept-Language", "en").split(",")[0])


def _signed_page(request: web.Request, bot: Bot, path: str | None) -> bool:
    """Whether the link is signed for `path` (None: the path named nothing a page shows)."""
    query = request.query
    return path is not None and verify_page(
        bot.alerts.link_secret,
        path,
        query.get("lang"),
        query.get("expires", ""),
        query.get("sig", ""),
        bot.clock.now(),
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"}
    )


def _page_source(bot: Bot) -> pages.PageSource:
    links = PageLinks("", bot.alerts.link_secret, bot.alerts.link_ttl)
    return pages.PageSource(bot.uow_factory, bot.targets, links)


async def job_page(request: web.Request) -> web.Response:
    """The page an alert's signed link opens; the signature is the permission (G4)."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    t = _page_translator(request)
    job_id = whole_number(request.match_info["job_id"])
    if not _signed_page(request, bot, job_path(job_id) if job_id is not None else None):
        shown = cut(request.match_info["job_id"], 40)  # the page names what was asked for
        return _html(pages.refusal(t, "page.link_invalid", job=shown), 403)
    assert job_id is not None
    html = None
    if record_id(str(job_id)) is not None:  # a signed id past any row's is no job either
        html = await pages.job_html(_page_source(bot), job_id, t, bot.clock.now())
    if html is None:
        return _html(pages.refusal(t, "error.job_not_found", job=job_id), 404)
    return _html(html)


def _page_target(text: str) -> str | None:
    """A target name as a link may carry it: what a configuration allows (bot/config.py)."""
    return text if PAGE_TARGET.fullmatch(text) else None


async def history_page(request: web.Request) -> web.Response:
    """A target's history page (F3), behind its signed link."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    t = _page_translator(request)
    target = _page_target(request.match_info["target"])
    if not _signed_page(request, bot, history_path(target) if target is not None else None):
        return _html(pages.refusal(t, "page.link_expired"), 403)
    assert target is not None
    html = await pages.history_html(_page_source(bot), target, t, bot.clock.now())
    if html is None:  # signed once, the target since removed from the configuration
        return _html(pages.refusal(t, "page.not_found"), 404)
    return _html(html)


async def review_page(request: web.Request) -> web.Response:
    """A schedule draft's review page with its diff (F3), behind its signed link."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    t = _page_translator(request)
    draft_id = whole_number(request.match_info["draft_id"])
    if not _signed_page(request, bot, review_path(draft_id) if draft_id is not None else None):
        return _html(pages.refusal(t, "page.link_expired"), 403)
    assert draft_id is not None
    html = None
    if record_id(str(draft_id)) is not None:
        html = await pages.review_html(_page_source(bot), draft_id, t, bot.clock.now())
    if html is None:
        return _html(pages.refusal(t, "page.not_found"), 404)
    return _html(html)


async def static_file(request: web.Request) -> web.Response:
    """The pages' stylesheet and scripts: the only files the pages load (CSP 'self')."""
    found = pages.static_file(request.match_info["name"])
    if found is None:
        return web.Response(text="no such file", status=404)
    body, kind = found
    return web.Response(
        body=body, content_type=kind, headers={"Cache-Control": "public, max-age=3600"}
    )


async def chart_image(request: web.Request) -> web.Response:
    """A target's `stats` chart (C6), for the platforms that fetch an image by its address
    (Slack, Teams). The signature is the permission (G4); a bent or expired link, an unknown
    target or a window out of bounds is refused with a 4xx, never drawn."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    target = request.match_info["target"]
    days = whole_number(request.match_info["days"])
    query = request.query
    if days is None or not verify(
        bot.alerts.link_secret,
        chart_path(target, days),
        query.get("expires", ""),
        query.get("sig", ""),
        bot.clock.now(),
    ):
        return web.Response(text="this chart link is not valid or has expired", status=403)
    spec = bot.targets.get(target)
    if spec is None or not 1 <= days <= MAX_STATS_DAYS:  # signed once, since removed
        return web.Response(text="no such chart", status=404)
    t = Translator(request.headers.get("Accept-Language", "en").split(",")[0])
    async with bot.uow_factory(read_only=True) as uow:
        [perf] = await load_performance(uow, [spec], bot.clock.now(), days)
    png = await asyncio.to_thread(charts.draw, chart(t, perf))
    return web.Response(
        body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=300"}
    )


async def export_download(request: web.Request) -> web.StreamResponse:
    """An `audit` export's file behind its signed link (bot/downloads.py)."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    return await serve_export(
        request, bot.exports, bot.alerts.link_secret, bot.clock, bot.audit_writer
    )


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


@web.middleware
async def platform_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A platform's request: its log lines name the platform and a request id, and the time
    to its answer (the ack) is measured. Outermost, so the time includes reading the body."""
    platform = PLATFORM_PATHS.get(request.path)
    if platform is None:
        return await handler(request)
    started = time.perf_counter()
    # Reset after the request: a kept-alive connection's next request starts clean.
    with log_context(platform=platform, request_id=new_request_id()):
        try:
            return await handler(request)
        finally:
            bot = request.app.get(BOT_KEY)
            if bot is not None:
                bot.telemetry.acked(platform, time.perf_counter() - started)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus' scrape (H4): with `metrics_token` set, only with its bearer token."""
    bot = request.app.get(BOT_KEY)
    if bot is None:
        return web.json_response({"status": "starting"}, status=503)
    token = bot.settings.metrics_token
    if token is not None and not bearer_matches(
        request.headers.get("Authorization"), token.get_secret_value()
    ):
        return web.Response(
            text="a bearer token is needed\n",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    try:
        await bot.telemetry.refresh(bot.uow_factory)
    except Exception as error:  # the counters still tell something; the gauges keep their last
        log.warning("metrics: the database did not answer: %s", type(error).__name__)
    return web.Response(body=bot.telemetry.exposition(), headers={"Content-Type": CONTENT_TYPE})


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[platform_requests, api_problems, bounded_body(settings.body_timeout_seconds)]
    )
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/jobs/{job_id}", job_page)
    app.router.add_get("/targets/{target}/history", history_page)
    app.router.add_get("/drafts/{draft_id}/review", review_page)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/charts/{target}/{days}.png", chart_image)
    app.router.add_get("/exports/{export_id}", export_download)
    app.router.add_get("/readyz", readyz)
    app.router.add_get(PRIVACY_PATH, privacy_page)
    app.router.add_get(TERMS_PATH, terms_page)
    add_routes(app, _api_of)
    if settings.slack_signing_secret is not None:
        app.router.add_post("/slack/events", slack_events)
    if settings.teams_enabled:
        check_teams_exposure(settings)
        app.router.add_post("/api/messages", teams_activities)
    if settings.discord_public_key:
        app.router.add_post("/discord/interactions", discord_interactions)

    async def bot_lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with open_server(settings) as server:
            app[BOT_KEY] = server.bot
            app[DISPATCHER_KEY] = server.dispatcher
            if server.scheduler is not None:
                app[SCHEDULER_KEY] = server.scheduler
            if server.slack is not None:
                app[SLACK_KEY] = server.slack
            if server.teams is not None:
                app[TEAMS_KEY] = server.teams
            if server.discord is not None:
                app[DISCORD_KEY] = server.discord
            log.info(
                "exportbot ready: targets %s; platforms live: %s",
                ", ".join(server.bot.targets),
                ", ".join(server.live),
            )
            # Everything built so far (SQLAlchemy's metadata, Bolt, the catalog) lives as long
            # as the process: frozen, full collections stop walking it, which took 50-100 ms
            # pauses off the ack tail (bench/slack_ack.py, help at 64 concurrent).
            gc.collect()
            gc.freeze()
            yield

    app.cleanup_ctx.append(bot_lifecycle)
    return app


def _api_of(request: web.Request) -> ApiService | None:
    bot = request.app.get(BOT_KEY)
    return bot.api if bot is not None else None


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
