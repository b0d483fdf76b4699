"""The Slack app: one slack-bolt `AsyncApp` with every listener, served at POST /slack/events.

Each request's signature and 5-minute timestamp window are verified here, on the raw bytes,
before anything parses the body (G1): a bad one gets 401 and touches nothing. A signed body
that is not a Slack payload gets 400; Bolt sees only verified, well-formed payloads.
`process_before_response=True` makes the HTTP answer wait for our own ack, which always
leaves within the ack budget; slower work continues in background tasks that `close()`
cancels.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.commands import SlashCommand
from adapters.slack.events import Events
from adapters.slack.interactions import Interactions
from adapters.slack.payloads import JSON, MalformedPayload, read_payload
from adapters.slack.runtime import SlackRuntime
from adapters.slack.verify import RequestVerifier
from core.app.service import CommandService
from core.delivery.pacing import Pacer
from core.domain.model import Job
from core.ports import Clock
from core.support.lifecycle import Lifecycle
from core.support.log_context import bind, current

log = logging.getLogger(__name__)


class SlackAdapter(Lifecycle):
    def __init__(
        self,
        service: CommandService,
        clock: Clock,
        *,
        signing_secret: str,
        token: str,
        api_url: str,
        pacer: Pacer | None = None,
    ) -> None:
        # One connection pool for every Web API call: the SDK otherwise opens a session (and
        # a TCP connection) per call, which halves what the alert dispatcher can send.
        self._session = aiohttp.ClientSession()
        self.client = AsyncWebClient(
            token=token,
            base_url=api_url,
            session=self._session,
            # No blind retry on a dropped connection: the post may have landed. The alert
            # dispatcher looks for it by its key before trying again (exactly once).
            retry_handlers=[],
        )
        self.runtime = SlackRuntime(service, self.client, clock, pacer or Pacer())
        self.verifier = RequestVerifier(signing_secret, lambda: clock.now().timestamp())
        self.app = AsyncApp(
            signing_secret=signing_secret,
            client=self.client,  # carries the token; Bolt takes it from there
            process_before_response=True,  # we ack ourselves, then work in the background
            request_verification_enabled=False,  # done in `handle`, before any parsing
        )
        self.app.use(_in_log_context)
        self.team_id = ""  # known after start()
        self.slash = SlashCommand(self.runtime)
        self.events = Events(self.runtime)
        for listeners in (self.slash, Interactions(self.runtime), self.events):
            listeners.register(self.app)

    async def _start(self) -> None:
        """With a bot token, learn who the bot is; Socket Mode alone may come without one."""
        if self.client.token:
            await self.start()

    async def _stop(self) -> None:
        await self.close()

    async def start(self) -> None:
        """Learn the bot's identity and serve its workspace (ARCHITECTURE.md)."""
        team = await self.runtime.identify()
        self.team_id = team
        self.runtime.service.serve_workspace(f"slack:{team}")

    async def close(self) -> None:
        await self.runtime.close()
        await self._session.close()

    async def on_job_ended(self, job: Job) -> None:
        """Redraw the job's card and say how it ended in its thread (an executor listener)."""
        await self.runtime.announcer.announce(job)

    async def handle(self, request: web.Request) -> web.Response:
        retry = request.headers.get("X-Slack-Retry-Num")
        if retry:
            reason = request.headers.get("X-Slack-Retry-Reason", "")
            log.info("Slack retry #%s (%s); events are claimed once", retry, reason)
        body = await request.read()
        if not self.verifier.verify_headers(request.headers, body):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            payload = read_payload(body, request.content_type)
            # Bolt re-reads the payload as JSON: its own guess at the shape loses slash
            # commands whose text holds the word "payload".
            bolt_request = AsyncBoltRequest(
                body=json.dumps(payload),
                query=request.query_string,
                headers={**request.headers, "Content-Type": JSON},
            )
        except MalformedPayload as error:
            log.info("refused a signed Slack request: %s", error)
            return web.json_response({"error": str(error)}, status=400)
        except Exception:  # Bolt could not read a shape we let through: still the sender's
            log.warning("Bolt could not read a signed Slack request", exc_info=True)
            return web.json_response({"error": "unreadable payload"}, status=400)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))


async def _in_log_context(
    context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Bolt middleware: the request's log lines (and its background work's) name Slack, the
    workspace and a request id, over HTTP (which has bound the id) and Socket Mode alike.
    Bound, not a `with` block: Bolt runs the listener after its middleware has returned, in
    the same task. Over HTTP the app's middleware resets it after the request (bot/app.py);
    Socket Mode handles each envelope in a task of its own."""
    request_id = None if "request_id" in current() else secrets.token_hex(8)
    bind(platform="slack", workspace=context.team_id, request_id=request_id)
    return await next()
