"""A loopback stand-in of Discord's REST API v10, recording what it receives, plus builders of
signed interactions shaped as Discord sends them to an HTTP interactions endpoint.

Point discord.py at it by setting `discord.http.Route.BASE = standin.api_base` (a class
attribute: save and restore it), then `HTTPClient.static_login(BOT_TOKEN)` or
`discord.Webhook.partial(APP_ID, token, session=...)`.

What discord.py needs from a server, learnt from its `http.py`:
- `Content-Type` exactly `application/json`, or it hands the body back as a string;
- a `Via` header on a 429, or it takes the 429 for a Cloudflare ban and raises at once;
- it retries 500, 502, 504 and 524 after sleeping 1 + 2·try seconds, and raises
  `DiscordServerError` on any other 5xx straight away.

Shapes and limits follow Discord's reference (message, components, interactions, rate limits).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import json
import math
import mimetypes
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestServer
from nacl.signing import SigningKey

from tests.adapters.discord_gateway_standin import GatewayStandIn
from tests.clients import corpus

API_PREFIX = "/api/v10"
APP_ID = "1300000000000000001"
BOT_USER_ID = APP_ID  # a bot user has its application's id
GUILD_ID = "1300000000000000002"
CHANNEL_ID = "1300000000000000003"
COMMAND_ID = "1300000000000000004"
ANNOTATE_COMMAND_ID = "1300000000000000005"
BOT_TOKEN = "standin-bot-token"
COMMAND = "export"
ADMIN_COMMAND_ID = "1300000000000000006"
ADMIN_COMMAND = "export-admin"
ANNOTATE_COMMAND = "Annotate export job"
# The registered slash commands (the checked-in bulk overwrite): which one holds a subcommand is
# what a person picks in Discord's menu, so an interaction names the command that holds it.
_REGISTERED = Path(__file__).resolve().parents[2] / "manifest" / "discord" / "commands.json"
_COMMAND_IDS = {COMMAND: COMMAND_ID, ADMIN_COMMAND: ADMIN_COMMAND_ID}
WAIT = 5.0  # seconds a test waits for the bot to call the stand-in
DISCORD_EPOCH_MS = 1_420_070_400_000

# Who presses, types and submits: name → (user id, display name, locale).
PEOPLE = {
    "alice": ("1300000000000000011", "Alice Admin", "en-US"),
    "bob": ("1300000000000000012", "Bob", "en-GB"),
    "carol": ("1300000000000000013", "Carol", "fr"),
}

# Interaction types, callback types, component types (Discord's enums).
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
PONG, CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
EPHEMERAL, LOADING = 1 << 6, 1 << 7
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, LABEL = 1, 2, 3, 4, 18
LINK_STYLE = 5

Json = dict[str, Any]
_snowflake_counter = itertools.count(1)


def snowflake() -> str:
    """A fresh id that decodes to now, as Discord's do (discord.py reads times from them)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_snowflake_counter) & 0x3FFFFF))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def bot_user() -> Json:
    return {
        "id": BOT_USER_ID,
        "username": "exportbot",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": True,
        "flags": 0,
        "public_flags": 0,
    }


def user_object(name: str) -> Json:
    """A Discord user; names outside `PEOPLE` get a stable made-up id."""
    user_id, display, _ = PEOPLE.get(name, (str(10**18 + int(_digest(name)[:12], 16)), name, ""))
    return {
        "id": user_id,
        "username": name.lower(),
        "discriminator": "0",
        "global_name": display,
        "avatar": None,
        "public_flags": 0,
    }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- what was received -------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a multipart request (`payload_json`, `files[0]`, …)."""

    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # under the API base: /channels/1/messages
    route: str  # the template it matched: "POST /channels/{channel_id}/messages"
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # the JSON body, or a multipart request's `payload_json`
    parts: tuple[Part, ...]
    status: int  # what the stand-in answered

    def files(self) -> list[Part]:
        return [p for p in self.parts if p.filename is not None]


@dataclass
class _Window:
    """A fixed window of `limit` requests per `per` seconds (Discord's per-route buckets)."""

    limit: int
    per: float
    bucket: str
    start: float = -math.inf
    used: int = 0

    def reset_after(self, now: float) -> float:
        return max(0.0, self.start + self.per - now)


@dataclass
class _Injected:
    times: int
    status: int
    retry_after: float = 0.0


class _Answer(Exception):
    """Raised inside a handler to answer with an error (`status`, Discord's JSON error body)."""

    def __init__(self, status: int, body: Json, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(body.get("message", ""))
        self.status, self.body, self.headers = status, body, dict(headers or {})


# What the bot sends to each route, as the payload corpus names it (tests/clients).
CORPUS_KINDS = {
    "POST /users/@me/channels": "open-dm",
    "POST /channels/{channel_id}/messages": "create-message",
    "PATCH /channels/{channel_id}/messages/{message_id}": "edit-message",
    "POST /channels/{channel_id}/messages/{message_id}/threads": "start-thread",
    "PUT /applications/{application_id}/commands": "put-commands",
    "PUT /applications/{application_id}/guilds/{guild_id}/commands": "put-commands",
    "POST /interactions/{interaction_id}/{token}/callback": "interaction-callback",
    "POST /webhooks/{application_id}/{token}": "followup",
    "PATCH /webhooks/{application_id}/{token}/messages/{message_id}": "edit-followup",
}


# -- the stand-in ------------------------------------------------------------------------


@dataclass
class DiscordStandIn:
    base_url: str = ""
    bot_token: str = BOT_TOKEN
    requests: list[Recorded] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    # Global limit: `global_limit` requests per `global_window` seconds per bot; interaction
    # callbacks and follow-ups are exempt, as on Discord.
    global_limit: int = 50
    global_window: float = 1.0
    # Every route answers with X-RateLimit-* headers from a window of this size unless
    # `limit_route` set another one; generous, so tests only meet limits they ask for.
    default_route_limit: tuple[int, float] = (1000, 1.0)
    messages: dict[str, Json] = field(default_factory=dict)  # message id → message
    originals: dict[str, Json] = field(default_factory=dict)  # interaction token → message
    threads: dict[str, Json] = field(default_factory=dict)
    dm_channels: dict[str, Json] = field(default_factory=dict)  # recipient id → channel
    nonces: dict[tuple[str, str], Json] = field(default_factory=dict)  # (channel, nonce) → message
    commands: dict[str, list[Json]] = field(default_factory=dict)  # "global" or guild id
    _limits: dict[str, tuple[int, float]] = field(default_factory=dict)
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)
    _injected: dict[str, deque[_Injected]] = field(default_factory=dict)
    gateway: GatewayStandIn | None = None  # made with the stand-in: its token, guild and bot

    def __post_init__(self) -> None:
        if self.gateway is None:
            self.gateway = GatewayStandIn(self.bot_token, bot_user(), GUILD_ID, APP_ID)
            self.gateway.guild = self.guild_create

    def guild_create(self) -> Json:
        """The guild as the gateway's GUILD_CREATE carries it: its channel, the bot's member,
        the active threads."""
        everyone = {
            "id": GUILD_ID,
            "name": "@everyone",
            "permissions": "1071698660929",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": GUILD_ID,
            "name": "Operations",
            "icon": None,
            "owner_id": PEOPLE["alice"][0],
            "unavailable": False,
            "member_count": 4,
            "large": False,
            "joined_at": "2025-01-06T09:00:00.000000+00:00",
            "preferred_locale": "en-US",
            "features": [],
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "channels": [
                {
                    "id": CHANNEL_ID,
                    "type": 0,
                    "guild_id": GUILD_ID,
                    "name": "ops",
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "topic": None,
                    "last_message_id": None,
                    "rate_limit_per_user": 0,
                    "flags": 0,
                }
            ],
            "threads": [t for t in self.threads.values() if not t["thread_metadata"]["archived"]],
            "members": [
                {
                    "user": bot_user(),
                    "roles": [],
                    "nick": None,
                    "joined_at": "2025-01-06T09:00:00.000000+00:00",
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                }
            ],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    @property
    def gateway_standin(self) -> GatewayStandIn:
        assert self.gateway is not None
        return self.gateway

    @property
    def api_base(self) -> str:
        """What `discord.http.Route.BASE` must be set to."""
        return f"{self.base_url}{API_PREFIX}"

    # -- on demand -------------------------------------------------------------------------

    def limit_route(self, route: str, limit: int, per: float) -> None:
        """Enforce a bucket of `limit` requests per `per` seconds on `route` (per channel,
        guild or webhook, like Discord), e.g. `("POST /channels/{channel_id}/messages", 5, 5)`."""
        self._limits[route] = (limit, per)

    def rate_limit_next(self, route: str, *, times: int = 1, retry_after: float = 0.3) -> None:
        """The next `times` requests to `route` get a per-route 429 with `retry_after`."""
        self._injected.setdefault(route, deque()).append(_Injected(times, 429, retry_after))

    def fail_next(self, route: str, *, status: int = 500, times: int = 1) -> None:
        """The next `times` requests to `route` fail with `status`. discord.py retries 500,
        502, 504 and 524 after sleeping 1 s, 3 s, …; use 503 for an immediate error."""
        self._injected.setdefault(route, deque()).append(_Injected(times, status))

    # -- reading what was received ---------------------------------------------------------

    def requests_to(self, route: str) -> list[Recorded]:
        return [r for r in self.requests if r.route == route]

    def bodies(self, route: str, status: int = 200) -> list[Any]:
        """JSON bodies of the requests to `route` that were answered with `status`."""
        return [r.json for r in self.requests_to(route) if r.status == status]

    async def wait_for(self, route: str, count: int = 1) -> list[Recorded]:
        """Wait until `route` was answered `count` times (the bot calls in the background)."""
        async with asyncio.timeout(WAIT), self.changed:
            await self.changed.wait_for(lambda: len(self.requests_to(route)) >= count)
        return self.requests_to(route)

    # -- serving ---------------------------------------------------------------------------

    def routes(self) -> Iterator[tuple[str, str, Callable[[Recorded], Awaitable[Any]]]]:
        yield "GET", "/users/@me", self._me
        yield "GET", "/oauth2/applications/@me", self._application
        yield "GET", "/channels/{channel_id}", self._channel
        yield "GET", "/gateway", self._gateway
        yield "GET", "/gateway/bot", self._gateway
        yield "POST", "/users/@me/channels", self._open_dm
        yield "POST", "/channels/{channel_id}/messages", self._post_message
        yield "GET", "/channels/{channel_id}/messages/{message_id}", self._get_message
        yield "PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message
        yield "POST", "/channels/{channel_id}/messages/{message_id}/threads", self._thread
        yield "PUT", "/applications/{application_id}/commands", self._put_commands
        yield "GET", "/applications/{application_id}/commands", self._get_commands
        yield "PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._put_commands
        yield "GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._get_commands
        yield "POST", "/interactions/{interaction_id}/{token}/callback", self._callback
        yield "POST", "/webhooks/{application_id}/{token}", self._followup
        yield "GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self._get_hooked
        yield "PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", self._edit_hooked
        yield "DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", self._delete

    def app(self) -> web.Application:
        app = web.Application()
        for method, template, handler in self.routes():
            app.router.add_route(
                method, API_PREFIX + template, self._serve(method, template, handler)
            )
        self.gateway_standin.attach(app)
        app.router.add_route("*", "/{tail:.*}", self._serve("*", "*", self._me))
        return app

    def _serve(
        self, method: str, template: str, handler: Callable[[Recorded], Awaitable[Any]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        route = f"{method} {template}"

        async def serve(request: web.Request) -> web.Response:
            body, parts = await _read_body(request)
            received = Recorded(
                method=request.method,
                path=request.path.removeprefix(API_PREFIX),
                route=route if template != "*" else f"{request.method} {request.path}",
                params=dict(request.match_info),
                query=dict(request.query),
                headers=dict(request.headers),
                json=body,
                parts=tuple(parts),
                status=0,
            )
            if route in CORPUS_KINDS and isinstance(body, dict | list):
                corpus.record("discord", CORPUS_KINDS[route], body)
            headers: dict[str, str] = {}
            if template == "*":  # no such route: no limits either, just a 404 to see
                status, payload = 404, _error(0, "404: Not Found")
            else:
                status, payload, headers = await self._answer(received, handler)
            await self._record(replace(received, status=status))
            return _json_response(status, payload, headers)

        return serve

    async def _answer(
        self, received: Recorded, handler: Callable[[Recorded], Awaitable[Any]]
    ) -> tuple[int, Any, dict[str, str]]:
        headers: dict[str, str] = {}
        try:
            self._check_auth(received)
            self._check_global(received)
            self._check_injected(received)
            headers = self._check_route_limit(received)
            if isinstance(received.json, _BadJson):
                raise _Answer(400, _error(50109, "The request body contains invalid JSON."))
            payload = await handler(received)
        except _Answer as answer:
            return answer.status, answer.body, {**headers, **answer.headers}
        return (204 if payload is None else 200), payload, headers

    async def _record(self, received: Recorded) -> None:
        async with self.changed:
            self.requests.append(received)
            self.changed.notify_all()

    # -- limits ----------------------------------------------------------------------------

    def _check_auth(self, received: Recorded) -> None:
        if _token_in_path(received):
            return
        if received.headers.get("Authorization") != f"Bot {self.bot_token}":
            raise _Answer(401, _error(0, "401: Unauthorized"))

    def _check_global(self, received: Recorded) -> None:
        if _token_in_path(received):
            return  # interaction endpoints are not bound to the global limit
        now = time.monotonic()
        while self._global and now - self._global[0] >= self.global_window:
            self._global.popleft()
        if len(self._global) >= self.global_limit:
            retry_after = round(self.global_window - (now - self._global[0]), 3)
            raise _Answer(
                429,
                {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": True,
                },
                {
                    "Retry-After": str(math.ceil(retry_after)),
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                },
            )
        self._global.append(now)

    def _window(self, received: Recorded) -> _Window:
        limit, per = self._limits.get(received.route, self.default_route_limit)
        key = (received.route, _major(received.params))
        window = self._windows.get(key)
        if window is None or (window.limit, window.per) != (limit, per):
            window = self._windows[key] = _Window(limit, per, _digest(received.route)[:16])
        return window

    def _check_route_limit(self, received: Recorded) -> dict[str, str]:
        window = self._window(received)
        now = time.monotonic()
        if window.reset_after(now) == 0.0:
            window.start, window.used = now, 0
        if window.used >= window.limit:
            retry_after = round(window.reset_after(now), 3)
            raise self._limited(window, retry_after, now)
        window.used += 1
        return _limit_headers(window, now)

    def _check_injected(self, received: Recorded) -> None:
        queue = self._injected.get(received.route)
        if not queue:
            return
        injected = queue[0]
        injected.times -= 1
        if injected.times <= 0:
            queue.popleft()
        if injected.status == 429:
            raise self._limited(self._window(received), injected.retry_after, time.monotonic())
        raise _Answer(injected.status, _error(0, f"{injected.status}: Server Error"))

    def _limited(self, window: _Window, retry_after: float, now: float) -> _Answer:
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        headers = {
            **_limit_headers(window, now, remaining=0, reset_after=retry_after),
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "user",
        }
        return _Answer(429, body, headers)

    # -- handlers --------------------------------------------------------------------------

    async def _me(self, received: Recorded) -> Json:
        return {**bot_user(), "verified": True, "mfa_enabled": False, "locale": "en-US"}

    async def _application(self, received: Recorded) -> Json:
        """The bot's application, as discord.py's gateway client reads it at login."""
        return {
            "id": APP_ID,
            "name": "exportbot",
            "icon": None,
            "description": "Backups and exports, from chat",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED: the intent is switched on
            "owner": user_object("alice"),
            "team": None,
            "bot": bot_user(),
            "interactions_endpoint_url": "https://exportbot.example.com/discord/interactions",
            "redirect_uris": [],
            "approximate_guild_count": 1,
        }

    async def _channel(self, received: Recorded) -> Json:
        channel_id = received.params["channel_id"]
        if channel_id in self.threads:
            return self.threads[channel_id]
        if channel_id in self.messages or not channel_id.isdigit():
            raise _Answer(404, _error(10003, "Unknown Channel"))
        return {
            "id": channel_id,
            "type": 0,
            "guild_id": GUILD_ID,
            "name": "ops",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    async def _gateway(self, received: Recorded) -> Json:
        answer: Json = {"url": self.gateway_standin.url}
        if received.path.endswith("/bot"):
            answer["shards"] = 1
            answer["session_start_limit"] = {
                "total": 1000,
                "remaining": 1000,
                "reset_after": 0,
                "max_concurrency": 1,
            }
        return answer

    async def _open_dm(self, received: Recorded) -> Json:
        recipient = str(_object(received.json).get("recipient_id", ""))
        if not recipient.isdigit():
            raise _invalid({"recipient_id": "Value is not snowflake."})
        if recipient not in self.dm_channels:
            user = next(
                (user_object(n) for n, p in PEOPLE.items() if p[0] == recipient),
                {**user_object(recipient), "id": recipient},
            )
            self.dm_channels[recipient] = {
                "id": snowflake(),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user],
            }
        return self.dm_channels[recipient]

    async def _post_message(self, received: Recorded) -> Json:
        payload = _object(received.json)
        _validate_message(payload, received.files(), creating=True)
        channel = received.params["channel_id"]
        if channel in self.messages and channel not in self.threads:
            # A message's id names a channel only once a thread was started from it.
            raise _Answer(404, _error(10003, "Unknown Channel"))
        seen = (channel, str(payload.get("nonce") or ""))
        if payload.get("enforce_nonce") and seen in self.nonces:
            return self.nonces[seen]  # as Discord does: the first message, not a second one
        message = self._new_message(channel, payload, received)
        self.messages[message["id"]] = message
        if payload.get("nonce"):
            self.nonces[seen] = message
        await self._tell_gateway(message)
        return message

    async def _get_message(self, received: Recorded) -> Json:
        return self._known(received.params["message_id"])

    async def _edit_message(self, received: Recorded) -> Json:
        message = self._known(received.params["message_id"])
        payload = _object(received.json)
        _validate_message(payload, received.files(), creating=False)
        return self._edit(message, payload, received)

    async def _thread(self, received: Recorded) -> Json:
        message_id = received.params["message_id"]
        if message_id in self.threads:
            raise _Answer(400, _error(160004, "A thread has already been created for this message"))
        payload = _object(received.json)
        name = str(payload.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise _invalid({"name": "Must be between 1 and 100 in length."})
        return await self.start_thread(
            received.params["channel_id"],
            message_id,
            name,
            archive=payload.get("auto_archive_duration") or 4320,
            rate_limit=payload.get("rate_limit_per_user") or 0,
        )

    async def start_thread(
        self,
        channel_id: str,
        message_id: str,
        name: str,
        *,
        owner: str = BOT_USER_ID,
        archive: int = 4320,
        rate_limit: int = 0,
    ) -> Json:
        """A public thread from message `message_id` of `channel_id`, as the bot (through the
        API) or a person (in Discord's UI, `owner`) starts it; the gateway is told."""
        thread = {
            "id": message_id,  # a thread started from a message shares its id
            "type": 11,
            "guild_id": GUILD_ID,
            "parent_id": channel_id,
            "owner_id": owner,
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": rate_limit,
            "flags": 0,
            "total_message_sent": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": archive,
                "archive_timestamp": _now_iso(),
                "locked": False,
            },
        }
        self.threads[message_id] = thread
        if message_id in self.messages:
            self.messages[message_id]["thread"] = thread
        await self.gateway_standin.dispatch(
            "THREAD_CREATE", {**thread, "guild_id": GUILD_ID, "newly_created": True}
        )
        return thread

    async def _put_commands(self, received: Recorded) -> list[Json]:
        if not isinstance(received.json, list):
            raise _invalid({"_": "Expected an array of application commands."})
        guild, application_id = received.params.get("guild_id"), received.params["application_id"]
        stored = [
            self._command(c, application_id, guild) for c in received.json if isinstance(c, dict)
        ]
        self.commands[guild or "global"] = stored
        return stored

    async def _get_commands(self, received: Recorded) -> list[Json]:
        return self.commands.get(received.params.get("guild_id") or "global", [])

    def _command(self, command: Json, application_id: str, guild: str | None) -> Json:
        name = str(command.get("name", ""))
        stored = {
            "id": _COMMAND_IDS.get(name) or snowflake(),
            "application_id": application_id,
            "version": snowflake(),
            "type": command.get("type", 1),
            "name": name,
            "description": command.get("description", ""),
            "default_member_permissions": command.get("default_member_permissions"),
            "nsfw": command.get("nsfw", False),
            **{k: v for k, v in command.items() if k not in {"id", "version"}},
        }
        if guild:
            stored["guild_id"] = guild
        return stored

    async def _callback(self, received: Recorded) -> Json | None:
        response = _object(received.json)
        kind = response.get("type")
        data = _object(response.get("data") or {})
        message: Json | None = None
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            _validate_message(data, received.files(), creating=kind == CHANNEL_MESSAGE)
            message = self._new_message(CHANNEL_ID, data, received, hooked=True)
            self.originals[received.params["token"]] = message
        elif kind == DEFERRED_MESSAGE:  # "thinking…": the original exists, to be edited
            loading = {"flags": LOADING | (int(data.get("flags") or 0) & EPHEMERAL)}
            self.originals[received.params["token"]] = self._new_message(
                CHANNEL_ID, loading, received, hooked=True
            )
        elif kind == MODAL:
            _validate_modal(data)
        elif kind == AUTOCOMPLETE_RESULT and len(data.get("choices") or []) > 25:
            raise _invalid({"data.choices": "Must be 25 or fewer in length."})
        elif kind not in (PONG, DEFERRED_UPDATE):
            raise _invalid({"type": f"Value must be one of (1, 4, 5, 6, 7, 8, 9): {kind!r}."})
        if received.query.get("with_response", "").lower() not in {"1", "true"}:
            return None  # 204, as Discord answers without ?with_response
        shown = kind in (CHANNEL_MESSAGE, DEFERRED_MESSAGE, UPDATE_MESSAGE)
        message = self.originals.get(received.params["token"]) if shown else None
        interaction = {
            "id": received.params["interaction_id"],
            "type": APPLICATION_COMMAND,  # the stand-in does not know; commands are the usual
            "response_message_id": message["id"] if message else None,
            "response_message_loading": kind == DEFERRED_MESSAGE,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
        }
        resource: Json = {"type": kind}
        if message is not None and kind != DEFERRED_MESSAGE:
            resource["message"] = message
        return {"interaction": interaction, "resource": resource}

    async def _followup(self, received: Recorded) -> Json:
        payload = _object(received.json)
        _validate_message(payload, received.files(), creating=True)
        message = self._new_message(CHANNEL_ID, payload, received, hooked=True)
        self.messages[message["id"]] = message
        return message  # follow-ups always wait: the created message comes back

    async def _get_hooked(self, received: Recorded) -> Json:
        return self._hooked(received)

    async def _edit_hooked(self, received: Recorded) -> Json:
        payload = _object(received.json)
        _validate_message(payload, received.files(), creating=False)
        token = received.params["token"]
        if received.params["message_id"] == "@original" and token not in self.originals:
            # The HTTP answer (type 5, deferred) created the original; the stand-in never saw it.
            self.originals[token] = self._new_message(CHANNEL_ID, {}, received, hooked=True)
        return self._edit(self._hooked(received), payload, received)

    async def _delete(self, received: Recorded) -> None:
        message = self._hooked(received)
        self.messages.pop(message["id"], None)
        if received.params["message_id"] == "@original":
            self.originals.pop(received.params["token"], None)

    def deliver(self, interaction: Mapping[str, Any], response: Mapping[str, Any]) -> Json | None:
        """What Discord does with the bot's HTTP answer to `interaction`: a message (4) or a
        deferred one (5) becomes the original response in the interaction's channel; an update
        (7) edits the message whose button was pressed. The stand-in never sees that answer
        otherwise: it goes back to Discord in the HTTP response, not through the API."""
        kind, data = response.get("type"), _object(response.get("data") or {})
        token, channel = str(interaction["token"]), str(interaction.get("channel_id") or "")
        nothing = Recorded("POST", "", "", {}, {}, {}, data, (), 200)
        if kind == CHANNEL_MESSAGE:
            _validate_message(data, [], creating=True)
            message = self._new_message(channel, data, nothing, hooked=True)
        elif kind == DEFERRED_MESSAGE:
            if token in self.originals:  # the follow-up was quicker than this delivery
                return self.originals[token]
            loading = {"flags": LOADING | (int(data.get("flags") or 0) & EPHEMERAL)}
            message = self._new_message(channel, loading, nothing, hooked=True)
        elif kind == UPDATE_MESSAGE:
            pressed = str((interaction.get("message") or {}).get("id") or "")
            _validate_message(data, [], creating=False)
            return self._edit(self._known(pressed), data, nothing) if pressed else None
        elif kind == MODAL:
            _validate_modal(data)
            return None
        else:
            return None
        self.originals[token] = message
        self.messages[message["id"]] = message
        return message

    # -- messages --------------------------------------------------------------------------

    async def _tell_gateway(self, message: Json) -> None:
        """Discord tells the gateway of every message in a guild, the bot's own included."""
        if any(message["channel_id"] == dm["id"] for dm in self.dm_channels.values()):
            return
        await self.gateway_standin.dispatch("MESSAGE_CREATE", {**message, "guild_id": GUILD_ID})

    def _known(self, message_id: str) -> Json:
        if message_id not in self.messages:
            raise _Answer(404, _error(10008, "Unknown Message"))
        return self.messages[message_id]

    def _hooked(self, received: Recorded) -> Json:
        message_id = received.params["message_id"]
        if message_id == "@original":
            token = received.params["token"]
            if token not in self.originals:
                raise _Answer(404, _error(10008, "Unknown Message"))
            return self.originals[token]
        return self._known(message_id)

    def _new_message(
        self, channel_id: str, payload: Json, received: Recorded, *, hooked: bool = False
    ) -> Json:
        message_id = snowflake()
        message: Json = {
            "id": message_id,
            "type": 0,
            "channel_id": channel_id,
            "content": payload.get("content") or "",
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "attachments": self._attachments(channel_id, payload, received),
            "author": bot_user(),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "flags": int(payload.get("flags") or 0),
        }
        if hooked:
            message["webhook_id"] = APP_ID
            message["application_id"] = APP_ID
        if channel_id in self.threads:
            thread = self.threads[channel_id]
            thread["message_count"] += 1
            thread["total_message_sent"] += 1
            thread["last_message_id"] = message_id
            message["position"] = thread["total_message_sent"] - 1
        return message

    def _edit(self, message: Json, payload: Json, received: Recorded) -> Json:
        for key in ("content", "embeds", "components", "flags"):
            if key in payload:
                message[key] = payload[key] if payload[key] is not None else _EMPTY[key]
        if "attachments" in payload or received.files():
            kept_ids = {str(a.get("id")) for a in payload.get("attachments") or []}
            kept = [a for a in message["attachments"] if a["id"] in kept_ids]
            message["attachments"] = kept + self._attachments(
                message["channel_id"], payload, received
            )
        message["edited_timestamp"] = _now_iso()
        return message

    def _attachments(self, channel_id: str, payload: Json, received: Recorded) -> list[Json]:
        """Uploaded files as attachment objects; `payload.attachments[].id` names the part
        `files[<id>]`, and carries the description (alt text) and filename."""
        files = {p.name: p for p in received.files()}
        described = {
            f"files[{a['id']}]": a
            for a in payload.get("attachments") or []
            if isinstance(a, dict) and f"files[{a.get('id')}]" in files
        }
        made = []
        for name, part in files.items():
            about = described.get(name, {})
            attachment_id = snowflake()
            filename = str(about.get("filename") or part.filename)
            url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
            attachment: Json = {
                "id": attachment_id,
                "filename": filename,
                "size": len(part.data),
                "url": url,
                "proxy_url": url,
                "content_type": _guess_type(filename, part.content_type),
            }
            if about.get("description"):
                attachment["description"] = about["description"]
            made.append(attachment)
        return made


_EMPTY: Json = {"content": "", "embeds": [], "components": [], "flags": 0}


@asynccontextmanager
async def discord_standin(**settings: Any) -> AsyncIterator[DiscordStandIn]:
    """A running stand-in on 127.0.0.1; `settings` set its fields (`global_limit=5`, …)."""
    standin = DiscordStandIn(**settings)
    async with TestServer(standin.app(), host="127.0.0.1") as server:
        standin.base_url = str(server.make_url("")).rstrip("/")
        standin.gateway_standin.base_url = standin.base_url
        yield standin


# -- HTTP details ------------------------------------------------------------------------


class _BadJson(str):
    """A body that should have been JSON and was not (answered 400 like Discord does)."""


async def _read_body(request: web.Request) -> tuple[Any, list[Part]]:
    if request.content_type.startswith("multipart/"):
        parts: list[Part] = []
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue  # Discord takes no nested multipart
            parts.append(
                Part(
                    name=part.name or "",
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type", ""),
                    data=bytes(await part.read()),
                )
            )
        payload = next((p.data for p in parts if p.name == "payload_json"), b"")
        return (_loads(payload) if payload else {}), parts
    raw = await request.read()
    return (_loads(raw) if raw else None), []


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _BadJson(raw.decode(errors="replace"))


def _json_response(status: int, payload: Any, headers: Mapping[str, str]) -> web.Response:
    # discord.py decodes JSON only for exactly `application/json` (no charset); `Via` tells it
    # a 429 came from Discord's edge and not from a Cloudflare ban.
    base = {"Via": "1.1 google", **headers}
    if status == 204:
        return web.Response(status=204, headers=base)
    body = json.dumps(payload).encode()
    return web.Response(
        status=status, body=body, headers={**base, "Content-Type": "application/json"}
    )


def _limit_headers(
    window: _Window, now: float, *, remaining: int | None = None, reset_after: float | None = None
) -> dict[str, str]:
    after = window.reset_after(now) if reset_after is None else reset_after
    left = window.limit - window.used if remaining is None else remaining
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(max(0, left)),
        "X-RateLimit-Reset": f"{time.time() + after:.3f}",
        "X-RateLimit-Reset-After": f"{after:.3f}",
        "X-RateLimit-Bucket": window.bucket,
    }


def _major(params: Mapping[str, str]) -> str:
    """The top-level resource a bucket is kept per (channel, guild, webhook)."""
    if "channel_id" in params:
        return params["channel_id"]
    if "guild_id" in params:
        return params["guild_id"]
    if "token" in params:
        return f"{params.get('application_id') or params.get('interaction_id')}/{params['token']}"
    return ""


def _token_in_path(received: Recorded) -> bool:
    """Interaction callbacks and follow-ups: authorised by the interaction's token."""
    return "{token}" in received.route


def _error(code: int, message: str) -> Json:
    return {"message": message, "code": code}


def _invalid(problems: Mapping[str, str]) -> _Answer:
    """Discord's 400 "Invalid Form Body": errors nested along each field's path."""
    errors: Json = {}
    for path, text in problems.items():
        node = errors
        for key in path.split("."):
            node = node.setdefault(key, {})
        node["_errors"] = [{"code": "BASE_TYPE_INVALID", "message": text}]
    return _Answer(400, {"code": 50035, "errors": errors, "message": "Invalid Form Body"})


def _object(value: Any) -> Json:
    if not isinstance(value, dict):
        raise _invalid({"_": "Expected a JSON object."})
    return value


def _guess_type(filename: str, sent: str) -> str:
    """Discord names the type from the file, not from the part's (always octet-stream)."""
    return mimetypes.guess_type(filename)[0] or sent or "application/octet-stream"


# -- payload validation (Discord's documented limits) ------------------------------------


def _validate_message(payload: Json, files: Sequence[Part], *, creating: bool) -> None:
    problems = dict(_message_problems(payload))
    if creating and not (
        payload.get("content") or payload.get("embeds") or payload.get("components") or files
    ):
        raise _Answer(400, _error(50006, "Cannot send an empty message"))
    if problems:
        raise _invalid(problems)


def _message_problems(payload: Json) -> Iterator[tuple[str, str]]:
    if len(payload.get("content") or "") > 2000:
        yield "content", "Must be 2000 or fewer in length."
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        yield "embeds", "Must be 10 or fewer in length."
    total = 0
    for i, embed in enumerate(embeds):
        yield from _embed_problems(f"embeds.{i}", embed)
        total += _embed_size(embed)
    if total > 6000:
        yield "embeds", "Embed size exceeds maximum size of 6000"
    yield from _component_problems(payload.get("components") or [])
    for i, attachment in enumerate(payload.get("attachments") or []):
        if len(str(attachment.get("description") or "")) > 1024:
            yield f"attachments.{i}.description", "Must be 1024 or fewer in length."


def _embed_problems(path: str, embed: Json) -> Iterator[tuple[str, str]]:
    limits = {"title": 256, "description": 4096}
    for key, most in limits.items():
        if len(embed.get(key) or "") > most:
            yield f"{path}.{key}", f"Must be {most} or fewer in length."
    fields = embed.get("fields") or []
    if len(fields) > 25:
        yield f"{path}.fields", "Must be 25 or fewer in length."
    for j, item in enumerate(fields):
        for key, most in (("name", 256), ("value", 1024)):
            if not 1 <= len(item.get(key) or "") <= most:
                yield f"{path}.fields.{j}.{key}", f"Must be between 1 and {most} in length."
    if len((embed.get("footer") or {}).get("text") or "") > 2048:
        yield f"{path}.footer.text", "Must be 2048 or fewer in length."


def _embed_size(embed: Json) -> int:
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    return size + sum(
        len(f.get("name") or "") + len(f.get("value") or "") for f in embed.get("fields") or []
    )


def _component_problems(rows: Sequence[Json]) -> Iterator[tuple[str, str]]:
    if len(rows) > 5:
        yield "components", "Must be 5 or fewer in length."
    seen: set[str] = set()
    for i, row in enumerate(rows):
        children = row.get("components") or []
        if row.get("type") != ACTION_ROW or not 1 <= len(children) <= 5:
            yield f"components.{i}", "An action row holds 1 to 5 buttons."
        for j, button in enumerate(children):
            path = f"components.{i}.components.{j}"
            if button.get("type") != BUTTON:
                continue
            if len(button.get("label") or "") > 80:
                yield f"{path}.label", "Must be 80 or fewer in length."
            if button.get("style") == LINK_STYLE:
                if "custom_id" in button or not 1 <= len(button.get("url") or "") <= 512:
                    yield path, "A link button has a url (up to 512) and no custom_id."
                continue
            custom_id = str(button.get("custom_id") or "")
            if not 1 <= len(custom_id) <= 100:
                yield f"{path}.custom_id", "Must be between 1 and 100 in length."
            if custom_id in seen:
                yield f"{path}.custom_id", "Component custom id cannot be duplicated"
            seen.add(custom_id)


def _validate_modal(data: Json) -> None:
    problems = dict(_modal_problems(data))
    if problems:
        raise _invalid(problems)


def _modal_problems(data: Json) -> Iterator[tuple[str, str]]:
    if not 1 <= len(str(data.get("custom_id") or "")) <= 100:
        yield "data.custom_id", "Must be between 1 and 100 in length."
    if not 1 <= len(str(data.get("title") or "")) <= 45:
        yield "data.title", "Must be between 1 and 45 in length."
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        yield "data.components", "Must be between 1 and 5 in length."
    for i, top in enumerate(components):
        path = f"data.components.{i}"
        if top.get("type") == LABEL:
            if not 1 <= len(top.get("label") or "") <= 45:
                yield f"{path}.label", "Must be between 1 and 45 in length."
            if len(top.get("description") or "") > 100:
                yield f"{path}.description", "Must be 100 or fewer in length."
            yield from _modal_input_problems(f"{path}.component", top.get("component") or {})
        elif top.get("type") == ACTION_ROW:  # the older layout: one text input per row
            for j, child in enumerate(top.get("components") or []):
                yield from _modal_input_problems(f"{path}.components.{j}", child)
        else:
            yield f"{path}.type", "A modal holds labels (or action rows of text inputs)."


def _modal_input_problems(path: str, component: Json) -> Iterator[tuple[str, str]]:
    if not 1 <= len(str(component.get("custom_id") or "")) <= 100:
        yield f"{path}.custom_id", "Must be between 1 and 100 in length."
    if component.get("type") == TEXT_INPUT:
        if component.get("style") not in (1, 2):
            yield f"{path}.style", "Value must be one of (1, 2)."
        for key, most in (("placeholder", 100), ("value", 4000), ("label", 45)):
            if len(component.get(key) or "") > most:
                yield f"{path}.{key}", f"Must be {most} or fewer in length."
        for key in ("min_length", "max_length"):
            if key in component and not 0 <= int(component[key]) <= 4000:
                yield f"{path}.{key}", "Must be between 0 and 4000."
    elif component.get("type") == STRING_SELECT:
        options = component.get("options") or []
        if not 1 <= len(options) <= 25:
            yield f"{path}.options", "Must be between 1 and 25 in length."
        if len(component.get("placeholder") or "") > 150:
            yield f"{path}.placeholder", "Must be 150 or fewer in length."
        for k, option in enumerate(options):
            for key in ("label", "value"):
                if not 1 <= len(option.get(key) or "") <= 100:
                    yield f"{path}.options.{k}.{key}", "Must be between 1 and 100 in length."
    else:
        yield f"{path}.type", "Expected a text input or a string select."


# -- signed interactions, shaped as Discord posts them -----------------------------------


def signed_interaction(
    signing_key: SigningKey, payload: Mapping[str, Any], *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of an interaction POST, signed as Discord signs them
    (Ed25519 over `timestamp + body`)."""
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = signing_key.sign(stamp.encode() + body).signature.hex()
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "Discord-Interactions/1.0 (+https://discord.com)",
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": stamp,
    }


def ping() -> Json:
    """Type 1: Discord checks the endpoint (answer `{"type": 1}`)."""
    return {
        "application_id": APP_ID,
        "entitlements": [],
        "id": snowflake(),
        "token": _token(),
        "type": PING,
        "version": 1,
    }


def slash_command(
    subcommand: str,
    options: Mapping[str, Any] | None = None,
    *,
    user: str = "alice",
    dm: bool = False,
    locale: str | None = None,
) -> Json:
    """Type 2, `/export <subcommand> …` (or `/export-admin …`, whichever registered command
    holds it). `subcommand` may name a group (`"role grant"`); option values are typed from
    Python (str 3, int 4, bool 5, float 10), and a dict is taken as the whole option object (a
    user option: `{"type": 6, "value": "<id>"}`)."""
    name = command_holding(subcommand.split(" ", 1)[0])
    data: Json = {
        "id": _COMMAND_IDS[name],
        "name": name,
        "type": 1,
        "options": [_subcommand(subcommand, _options(options or {}))],
    }
    users = [o["value"] for o in _options(options or {}) if o["type"] == 6]
    if users:
        data["resolved"] = {"users": {u: {**_user_by_id(u)} for u in users}}
    if not dm:
        data["guild_id"] = GUILD_ID
    return _interaction(APPLICATION_COMMAND, data, user=user, dm=dm, locale=locale)


@functools.cache
def _registered_holders() -> dict[str, str]:
    commands = json.loads(_REGISTERED.read_text(encoding="utf-8"))
    return {
        option["name"]: command["name"]
        for command in commands
        if command.get("type", 1) == 1
        for option in command.get("options", [])
    }


def command_holding(word: str) -> str:
    """The registered slash command that has `word` as a subcommand or group (`/export` for a
    word none has: Discord would never send one, and the bot must answer it anyway)."""
    return _registered_holders().get(word, COMMAND)


def message_command(
    target: Mapping[str, Any], *, user: str = "alice", dm: bool = False, locale: str | None = None
) -> Json:
    """Type 2 with a MESSAGE context-menu command (data.type 3) used on `target`."""
    data: Json = {
        "id": ANNOTATE_COMMAND_ID,
        "name": ANNOTATE_COMMAND,
        "type": 3,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: dict(target)}},
    }
    if not dm:
        data["guild_id"] = GUILD_ID
    return _interaction(APPLICATION_COMMAND, data, user=user, dm=dm, locale=locale)


def component(
    custom_id: str,
    message: Mapping[str, Any] | None = None,
    *,
    user: str = "alice",
    dm: bool = False,
    locale: str | None = None,
) -> Json:
    """Type 3: a press of the button `custom_id` on `message` (a bot message by default)."""
    pressed = dict(message) if message is not None else channel_message(dm=dm)
    data = {"custom_id": custom_id, "component_type": BUTTON}
    return _interaction(MESSAGE_COMPONENT, data, user=user, dm=dm, locale=locale, message=pressed)


def autocomplete(
    subcommand: str,
    options: Mapping[str, Any],
    focused: str,
    *,
    user: str = "alice",
    dm: bool = False,
    locale: str | None = None,
) -> Json:
    """Type 4: the person is typing option `focused` (values are what was typed so far)."""
    typed = [
        {**o, "value": str(o["value"]), "focused": True} if o["name"] == focused else o
        for o in _options(options)
    ]
    data: Json = {
        "id": COMMAND_ID,
        "name": COMMAND,
        "type": 1,
        "options": [_subcommand(subcommand, typed)],
    }
    if not dm:
        data["guild_id"] = GUILD_ID
    return _interaction(AUTOCOMPLETE, data, user=user, dm=dm, locale=locale)


def modal_submit(
    custom_id: str,
    values: Mapping[str, str | Sequence[str]],
    *,
    user: str = "alice",
    dm: bool = False,
    locale: str | None = None,
    message: Mapping[str, Any] | None = None,
    layout: str = "label",
) -> Json:
    """Type 5: the modal `custom_id` submitted with `values` by input custom_id. A list value
    comes from a string select. `layout="label"` is Discord's current modal (each input in a
    Label, type 18); `"action_row"` the older one (text inputs in action rows)."""
    ids = itertools.count(1)
    components: list[Json] = []
    for name, value in values.items():
        if isinstance(value, str):
            child: Json = {"type": TEXT_INPUT, "id": 0, "custom_id": name, "value": value}
        else:
            child = {"type": STRING_SELECT, "id": 0, "custom_id": name, "values": list(value)}
        outer = next(ids)
        child["id"] = next(ids)
        if layout == "label":
            components.append({"type": LABEL, "id": outer, "component": child})
        else:
            components.append({"type": ACTION_ROW, "id": outer, "components": [child]})
    data = {"custom_id": custom_id, "components": components}
    return _interaction(
        MODAL_SUBMIT,
        data,
        user=user,
        dm=dm,
        locale=locale,
        message=dict(message) if message is not None else None,
    )


def channel_message(
    content: str = "",
    *,
    author: Mapping[str, Any] | None = None,
    embeds: Sequence[Json] = (),
    components: Sequence[Json] = (),
    message_id: str | None = None,
    channel_id: str = CHANNEL_ID,
    dm: bool = False,
) -> Json:
    """A message object as interactions carry it (the bot's, unless `author` is given)."""
    message: Json = {
        "id": message_id or snowflake(),
        "type": 0,
        "channel_id": channel_id,
        "content": content,
        "embeds": list(embeds),
        "components": list(components),
        "attachments": [],
        "author": dict(author) if author is not None else bot_user(),
        "timestamp": _now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "flags": 0,
    }
    if author is None:
        message["application_id"] = APP_ID
    if not dm:
        message["guild_id"] = GUILD_ID
    return message


def _interaction(
    kind: int,
    data: Json,
    *,
    user: str,
    dm: bool,
    locale: str | None,
    message: Json | None = None,
) -> Json:
    person = user_object(user)
    _, _, own_locale = PEOPLE.get(user, ("", "", "en-US"))
    channel_id = (message or {}).get("channel_id") or (_dm_id(person) if dm else CHANNEL_ID)
    payload: Json = {
        "app_permissions": "562949953601536",
        "application_id": APP_ID,
        "attachment_size_limit": 10_485_760,
        "authorizing_integration_owners": {"0": "0" if dm else GUILD_ID},
        "channel_id": channel_id,
        "context": 1 if dm else 0,
        "data": data,
        "entitlements": [],
        "id": snowflake(),
        "locale": locale or own_locale or "en-US",
        "token": _token(),
        "type": kind,
        "version": 1,
    }
    if dm:
        payload["channel"] = {
            "id": channel_id,
            "type": 1,
            "flags": 0,
            "last_message_id": None,
            "recipients": [person],
        }
        payload["user"] = person
    else:
        payload["channel"] = {
            "id": channel_id,
            "type": 0,
            "guild_id": GUILD_ID,
            "name": "ops",
            "flags": 0,
            "nsfw": False,
            "parent_id": None,
            "position": 0,
            "permissions": "1125899906842623",
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }
        payload["guild_id"] = GUILD_ID
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": GUILD_ID, "locale": "en-US", "features": []}
        payload["member"] = {
            "user": person,
            "nick": None,
            "avatar": None,
            "roles": [],
            "joined_at": "2025-01-06T09:00:00.000000+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "permissions": "1125899906842623",
            "communication_disabled_until": None,
        }
    if message is not None:
        payload["message"] = message
    return payload


def _subcommand(path: str, options: list[Json]) -> Json:
    names = path.split()
    if len(names) == 2:  # a subcommand group, then its subcommand
        return {"type": 2, "name": names[0], "options": [_subcommand(names[1], options)]}
    sub: Json = {"type": 1, "name": names[0]}
    if options:
        sub["options"] = options
    return sub


def _options(options: Mapping[str, Any]) -> list[Json]:
    made = []
    for name, value in options.items():
        if isinstance(value, dict):
            made.append({"name": name, **value})
        elif isinstance(value, bool):  # before int: a bool is an int in Python
            made.append({"type": 5, "name": name, "value": value})
        elif isinstance(value, int):
            made.append({"type": 4, "name": name, "value": value})
        elif isinstance(value, float):
            made.append({"type": 10, "name": name, "value": value})
        else:
            made.append({"type": 3, "name": name, "value": str(value)})
    return made


def _user_by_id(user_id: str) -> Json:
    for name, (known, _, _) in PEOPLE.items():
        if known == user_id:
            return user_object(name)
    return {**user_object(user_id), "id": user_id}


def _dm_id(person: Json) -> str:
    return str(int(person["id"]) + 7)  # stable per person, distinct from any user id


def _token() -> str:
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
