"""Slack Socket Mode for the same Bolt `AsyncApp` that serves POST /slack/events.

When `SLACK_APP_TOKEN` (an app-level `xapp-…` token) is set, Slack delivers slash commands,
button presses and events over a WebSocket the bot opens, instead of posting them to a public
URL. The envelopes go through the very same `AsyncApp` (same listeners, same ack budget), so
Socket Mode adds a transport, not a second code path.

Why `connect_async()` and not Bolt's `start_async()`: `start_async()` connects and then sleeps
forever, which suits a script whose only job is Socket Mode. Here **one event loop hosts
everything** (ARCHITECTURE.md: one aiohttp application; the bot, scheduler and platforms start
in its `cleanup_ctx`), so `start()` must return once the socket is open and let aiohttp's
startup continue; the SDK's own tasks (receiver, ping monitor, message processor) keep running
on that loop until `close()`.

What the SDK does, and what this wrapper adds (slack_bolt 1.30 / slack_sdk 3.48):

- `AsyncSocketModeHandler` builds slack_sdk's aiohttp `SocketModeClient` with the app's web
  client (so `apps.connections.open` goes to `EXPORTBOT_SLACK_API_URL`, authorized with the
  app token), `auto_reconnect_enabled=True` (a `disconnect` message from Slack, a CLOSE frame
  or a stale ping-pong of 4 × `ping_interval` triggers a new `apps.connections.open` and a new
  socket) and its own `aiohttp.ClientSession`. Its constructor needs a running loop (it opens
  that session and schedules a task), so the handler is built in `start()`, not here.
- Each envelope is dispatched to Bolt and the ack is sent when `async_dispatch` returns:
  `{"envelope_id": …, "payload": <the JSON body ack() would have returned over HTTP>}`. With
  `process_before_response=True` that is when our listener returns (it acks within its budget
  and hands slow work to a background task), exactly as over HTTP.
- The SDK's `connect()` retries forever when the URL cannot be issued (a wrong token would
  hang startup), so `start()` asks for the URL itself first: Slack's refusal raises at once.
  The socket itself must open within `connect_timeout`.
- The SDK's `close()` cancels its tasks without awaiting them and forgets the tasks running
  envelopes. `close()` here lets envelopes being answered finish (at most `close_grace`
  seconds, so their acks still leave), closes the socket and the session, then awaits every
  task it cancelled: nothing pending is left on the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from core.support.lifecycle import Lifecycle

log = logging.getLogger(__name__)

PING_INTERVAL = 10.0  # seconds; Bolt's default for its handler
CONNECT_TIMEOUT = 30.0  # seconds for the WebSocket handshake at start
CLOSE_GRACE = 2.0  # seconds for envelopes in flight to be acked (ACK_BUDGET is 1.5)


class SlackSocketMode(Lifecycle):
    """Serve a Bolt `AsyncApp` over Socket Mode: `await start()` … `await close()`, or
    `async with SlackSocketMode(app, app_token):`. Both calls are idempotent; a closed
    instance cannot be started again (build a new one)."""

    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        *,
        client: AsyncWebClient | None = None,
        ping_interval: float = PING_INTERVAL,
        connect_timeout: float = CONNECT_TIMEOUT,
        close_grace: float = CLOSE_GRACE,
    ) -> None:
        if not app_token.startswith("xapp-"):
            # Slack would answer not_allowed_token_type; say which setting is wrong instead.
            raise ValueError("Socket Mode needs an app-level token (SLACK_APP_TOKEN, xapp-…)")
        self._app = app
        self._app_token = app_token
        self._client = client if client is not None else app.client
        self._ping_interval = ping_interval
        self._connect_timeout = connect_timeout
        self._close_grace = close_grace
        self._handler: AsyncSocketModeHandler | None = None
        self._in_flight: set[asyncio.Task[object]] = set()
        self._accepting = False
        self._closed = False

    @property
    def connected(self) -> bool:
        """True while a socket is open (the SDK may be between two sockets when reconnecting)."""
        session = self._handler.client.current_session if self._handler else None
        return self._accepting and session is not None and not session.closed

    async def start(self) -> None:
        """Open the socket and return; envelopes are then served on this event loop.

        Raises `slack_sdk.errors.SlackApiError` when Slack refuses the app token and
        `TimeoutError` when the socket does not open within `connect_timeout`.
        """
        if self._closed:
            raise RuntimeError("this Socket Mode connection was closed; build a new one")
        if self._handler is not None:
            return
        handler = AsyncSocketModeHandler(
            self._app,
            self._app_token,
            web_client=self._client,
            proxy=self._client.proxy,  # the web client already resolved HTTPS_PROXY & co.
            ping_interval=self._ping_interval,
        )
        # Run envelopes through our wrapper so close() knows which ones are still running.
        handler.client.socket_mode_request_listeners[:] = [self._dispatch]
        self._handler = handler
        self._accepting = True
        try:
            # connect() would retry this call forever; fail fast on a refused token instead.
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
            connect: Callable[[], Awaitable[None]] = handler.connect_async  # untyped in Bolt
            async with asyncio.timeout(self._connect_timeout):
                await connect()
        except BaseException:
            await self.close()
            raise
        log.info("Slack Socket Mode connected through %s", self._client.base_url)

    async def close(self) -> None:
        """Let envelopes in flight be acked (bounded), close the socket, await the SDK's tasks."""
        if self._closed:
            return
        self._closed = True
        handler = self._handler
        if handler is None:
            return
        running = set(self._in_flight)
        if running:
            await asyncio.wait(running, timeout=self._close_grace)
        self._accepting = False  # an envelope arriving now could not be acked any more
        socket_client = handler.client
        close: Callable[[], Awaitable[None]] = handler.close_async  # untyped in Bolt
        await close()
        tasks = [
            socket_client.message_processor,
            socket_client.current_session_monitor,
            socket_client.message_receiver,
            *self._in_flight,
        ]
        pending = [task for task in tasks if task is not None and not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        log.info("Slack Socket Mode closed")

    async def _start(self) -> None:
        await self.start()

    async def _stop(self) -> None:
        await self.close()

    async def _dispatch(
        self, client: AsyncBaseSocketModeClient, request: SocketModeRequest
    ) -> None:
        handler = self._handler
        task = asyncio.current_task()
        if handler is None or task is None or not self._accepting:
            return
        self._in_flight.add(task)
        try:
            await handler.handle(handler.client, request)
        finally:
            self._in_flight.discard(task)
