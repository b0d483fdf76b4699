"""A loopback stand-in of Slack's Socket Mode: the Web API methods it needs and the WebSocket.

Like Slack: `apps.connections.open` (authorized with the app-level `xapp-…` token, anything
else gets `not_allowed_token_type`) issues a single-use `…/link/?ticket=…` URL; a socket
opened on it first receives `hello`; the test then pushes envelopes and reads the client's
acks (`{"envelope_id": …, "payload": {…}}`), or asks the client to reconnect with a
`disconnect` message, as Slack does before it refreshes a connection.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

TEAM = "T0EXPORT"
APP_ID = "A0EXPORT"
WAIT = 5.0  # seconds any wait on the client may take


@dataclass
class Link:
    """One WebSocket the client opened."""

    ticket: str
    socket: web.WebSocketResponse
    received: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


@dataclass
class SocketStandIn:
    app_token: str
    base_url: str = ""
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # method, form, auth
    links: list[Link] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    tickets: set[str] = field(default_factory=set)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.base_url}/response/{name}"

    def methods(self) -> list[str]:
        return [method for method, _, _ in self.calls]

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def until(self, predicate: Callable[[], bool], seconds: float = WAIT) -> None:
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(predicate)

    async def link(self, number: int = 1) -> Link:
        """The `number`-th socket, once the client has opened it (1-based)."""
        await self.until(lambda: len(self.links) >= number)
        return self.links[number - 1]

    async def push(self, envelope: dict[str, Any], *, link: Link | None = None) -> dict[str, Any]:
        """Send one envelope on the newest open socket and return the client's ack."""
        target = link or next(item for item in reversed(self.links) if not item.closed)
        await target.socket.send_json(envelope)
        envelope_id = envelope["envelope_id"]

        def acked() -> bool:
            return any(m.get("envelope_id") == envelope_id for m in target.received)

        await self.until(acked)
        return next(m for m in target.received if m.get("envelope_id") == envelope_id)

    def answer(self, method: str, form: dict[str, Any]) -> dict[str, Any]:
        """The Web API methods the bot calls around a slash command, answered as Slack does."""
        if method == "auth.test":
            return {
                "team_id": TEAM,
                "team": "Acme",
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "url": "https://acme.slack.com/",
            }
        if method == "users.info":
            user = str(form.get("user", ""))
            name = {"U0ADMIN": "Alice Admin"}.get(user, user.lower())
            profile = {"display_name": name, "real_name": name}
            return {
                "user": {"id": user, "name": user.lower(), "locale": "en-US", "profile": profile}
            }
        if method in {"chat.postMessage", "chat.update"}:
            ts = str(form.get("ts") or f"1700000{len(self.calls):03d}.000100")
            return {"channel": form.get("channel"), "ts": ts, "message": {"text": form.get("text")}}
        return {}

    async def ask_to_reconnect(self, link: Link, reason: str = "refresh_requested") -> None:
        await link.socket.send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}}
        )


@asynccontextmanager
async def socket_standin(app_token: str) -> AsyncIterator[SocketStandIn]:
    standin = SocketStandIn(app_token)

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":  # users.info and other reads
            form: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            form = await request.json()
        else:
            form = dict(await request.post())
        authorization = request.headers.get("Authorization", "")
        standin.calls.append((method, form, authorization))
        await standin._notify()
        if method == "apps.connections.open":
            if authorization != f"Bearer {standin.app_token}":
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
            ticket = uuid.uuid4().hex
            standin.tickets.add(ticket)
            host, port = request.url.host, request.url.port
            url = f"ws://{host}:{port}/link/?ticket={ticket}&app_id={APP_ID}"
            return web.json_response({"ok": True, "url": url})
        return web.json_response({"ok": True, **standin.answer(method, form)})

    async def link(request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in standin.tickets:
            raise web.HTTPUnauthorized(text="unknown or used ticket")
        standin.tickets.discard(ticket)  # a URL opens one socket, as Slack's do
        socket = web.WebSocketResponse()  # autoping: answers the SDK's pings with pongs
        await socket.prepare(request)
        current = Link(ticket, socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1 + sum(not item.closed for item in standin.links),
                "debug_info": {
                    "host": "standin",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": APP_ID},
            }
        )
        standin.links.append(current)
        await standin._notify()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    current.received.append(json.loads(message.data))
                    await standin._notify()
        finally:
            current.closed = True
            await standin._notify()
        return socket

    async def response(request: web.Request) -> web.Response:
        standin.responses.append(await request.json())
        await standin._notify()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_get("/link/", link)
    app.router.add_post("/response/{name}", response)
    async with TestServer(app, host="127.0.0.1") as server:
        standin.base_url = str(server.make_url("")).rstrip("/")
        try:
            yield standin
        finally:
            for item in standin.links:
                if not item.closed:
                    await item.socket.close()


def slash_envelope(
    text: str, *, user: str, team: str = TEAM, response_url: str, envelope_id: str | None = None
) -> dict[str, Any]:
    """A `slash_commands` envelope as Slack sends it over Socket Mode (payload as a dict)."""
    return {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "acme",
            "channel_id": "C0OPS",
            "channel_name": "ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/export",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.456.abcdef",
        },
    }
