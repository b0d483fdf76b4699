"""A loopback stand-in for the four kinds of webhook receiver, recording every request and
failing on demand.

Normal answers follow each platform's documentation: a Slack incoming webhook answers `ok` as
text; a Discord webhook answers 204, or with `?wait=true` the message object as
`application/json` (exactly that: Discord clients reject a charset suffix), and an edit
(`PATCH …/messages/<id>`) answers the edited message or 404 `Unknown Message`; a Teams
Workflows trigger answers 202 with no body; the generic JSON receiver answers 204.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from tests.clients import corpus

# The tokens sit where each platform keeps its secret: a test asserts they never leak.
SLACK_TOKEN = "slackSECRETtoken0001"
DISCORD_TOKEN = "discordSECRETtoken0002"
TEAMS_SIG = "teamsSECRETsig0003"
JSON_TOKEN = "jsonSECRETtoken0004"
SECRETS = (SLACK_TOKEN, DISCORD_TOKEN, TEAMS_SIG, JSON_TOKEN)
HANG_LIMIT = 5.0  # seconds a hanging answer waits at most (the stand-in's own safety net)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Failure:
    """One answer that replaces the normal one: a status (with headers and a body), a hang
    past the sender's timeout, or a connection dropped before any answer."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    hang: bool = False
    drop: bool = False
    endless: bool = False  # the status and headers, then a body that never ends


HANG = Failure(hang=True)
DROP = Failure(drop=True)


def status(code: int, body: bytes | str | dict[str, Any] = b"") -> Failure:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return Failure(code, body=raw.encode() if isinstance(raw, str) else raw)


def rate_limited(header: str | None = None, *, retry_after: float | None = None) -> Failure:
    """A 429 with a `Retry-After` header and/or Discord's JSON `retry_after`."""
    headers = {"Retry-After": header} if header is not None else {}
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    raw = json.dumps(body).encode() if retry_after is not None else b""
    return Failure(429, headers=headers, body=raw)


@dataclass
class WebhookStandIn:
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # consumed one per request
    discord_messages: dict[str, Any] = field(default_factory=dict)  # message id → last body
    release: asyncio.Event = field(default_factory=asyncio.Event)  # ends hanging answers
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail(self, *failures: Failure) -> None:
        self.failures.extend(failures)

    @property
    def slack_url(self) -> str:
        return f"{self.base_url}/services/T0EXPORT/B0HOOK/{SLACK_TOKEN}"

    @property
    def discord_url(self) -> str:
        return f"{self.base_url}/api/webhooks/1200000000000000001/{DISCORD_TOKEN}"

    @property
    def teams_url(self) -> str:
        return (
            f"{self.base_url}/workflows/0a1b2c/triggers/manual/paths/invoke"
            f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sig={TEAMS_SIG}"
        )

    @property
    def json_url(self) -> str:
        return f"{self.base_url}/hooks/{JSON_TOKEN}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append(
            Received(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
            )
        )
        _record_in_corpus(self.received[-1])
        if self.failures:
            return await self._fail(request, self.failures.pop(0))
        return self._answer(self.received[-1])

    async def _fail(self, request: web.Request, failure: Failure) -> web.StreamResponse:
        if failure.drop:
            # Close the socket with nothing written: the client sees a dropped connection,
            # and aiohttp quietly skips writing the answer to a closed transport.
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if failure.endless:
            response = web.StreamResponse(status=failure.status, headers=failure.headers)
            await response.prepare(request)
            with suppress(ConnectionError):
                for _ in range(int(HANG_LIMIT / 0.01)):  # the stand-in's own safety net
                    await response.write(b"x" * 65536)
                    await asyncio.sleep(0.01)
            return response
        if failure.hang:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), HANG_LIMIT)
        content_type = "application/json" if failure.body.startswith(b"{") else "text/plain"
        return web.Response(
            status=failure.status,
            headers=failure.headers,
            body=failure.body,
            content_type=content_type,
        )

    def _answer(self, received: Received) -> web.Response:
        path = received.path
        if path.startswith("/services/"):
            return web.Response(text="ok", content_type="text/html")
        if path.startswith("/api/webhooks/"):
            return self._discord(received)
        if path.startswith("/workflows/"):
            return web.Response(status=202)
        if path.startswith("/hooks/"):
            return web.Response(status=204)
        return web.Response(status=404, text="no_service", content_type="text/plain")

    def _discord(self, received: Received) -> web.Response:
        if received.method == "PATCH":
            message_id = received.path.rsplit("/", 1)[-1]
            if message_id not in self.discord_messages:
                return _discord_json(404, {"message": "Unknown Message", "code": 10008})
            self.discord_messages[message_id] = received.json()
            return _discord_json(200, {"id": message_id, **received.json()})
        if received.query.get("wait") != "true":
            return web.Response(status=204)
        message_id = str(1300000000000000000 + next(self._ids))
        self.discord_messages[message_id] = received.json()
        return _discord_json(200, {"id": message_id, "channel_id": "1400", **received.json()})


# Where each receiver's bodies go in the payload corpus: path prefix → platform, kind.
CORPUS_KINDS = {
    "/services/": ("slack", "incoming-webhook"),
    "/api/webhooks/": ("discord", "webhook-message"),
    "/workflows/": ("teams", "workflows-webhook"),
    "/hooks/": ("json", "webhook"),
}


def _record_in_corpus(received: Received) -> None:
    for prefix, (platform, kind) in CORPUS_KINDS.items():
        if received.path.startswith(prefix):
            kind = "webhook-edit" if received.method == "PATCH" else kind
            with suppress(ValueError):  # a body that is not JSON is the sender's test's business
                corpus.record(platform, kind, received.json())


def _discord_json(code: int, body: dict[str, Any]) -> web.Response:
    # bytes, not text: aiohttp would add "; charset=utf-8" to a text body.
    return web.Response(
        status=code, body=json.dumps(body).encode(), content_type="application/json"
    )


class StaticResolver(AbstractResolver):
    """A stand-in for DNS: each name answers the addresses given, as getaddrinfo would (a
    name that now resolves to 127.0.0.1 is DNS rebinding, seen from the bot)."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(socket.EAI_NONAME, f"{host} is not known")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=socket.IPPROTO_TCP,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.names[host]
        ]

    async def close(self) -> None:
        pass


@asynccontextmanager
async def webhook_standin() -> AsyncIterator[WebhookStandIn]:
    standin = WebhookStandIn()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", standin.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        standin.base_url = str(server.make_url("")).rstrip("/")
        try:
            yield standin
        finally:
            standin.release.set()
