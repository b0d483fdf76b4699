"""A loopback stand-in of Discord's gateway (API v10), served by the REST stand-in's own app
(`GET /api/v10/gateway/bot` answers its `ws://127.0.0.1:…/gateway` URL).

It speaks the protocol as discord.py's `gateway.py` expects it:
- HELLO (op 10) with the heartbeat interval on connect; every HEARTBEAT (op 1) gets its
  HEARTBEAT_ACK (op 11);
- IDENTIFY (op 2) with the right token gets the READY dispatch (session id, resume URL); a
  wrong token closes with 4004, a privileged intent Discord has not granted with 4014;
- RESUME (op 6) of a known session gets RESUMED;
- dispatches (op 0) carry a sequence number per session;
- frames are compressed as the client asked in the URL (`compress=zstd-stream` or
  `zlib-stream`, one stream per connection), plain text otherwise.

What the bot sent is kept (`identifies`, `received`), and a test can push any event
(`dispatch`) or drop every connection (`drop`) to watch the client reconnect.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zstandard
from aiohttp import WSMsgType, web

Json = dict[str, Any]

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0,
    1,
    2,
    6,
    7,
    9,
    10,
    11,
)
AUTHENTICATION_FAILED, DISALLOWED_INTENTS = 4004, 4014
MESSAGE_CONTENT = 1 << 15  # the privileged intent exportbot's gateway mode needs
GATEWAY_PATH = "/gateway"
WAIT = 5.0


class _Compressor:
    """One compression stream per connection, flushed at every message, as Discord does."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._zlib = zlib.compressobj() if kind == "zlib-stream" else None
        self._zstd = zstandard.ZstdCompressor().compressobj() if kind == "zstd-stream" else None

    def frame(self, text: str) -> bytes | str:
        data = text.encode()
        if self._zlib is not None:
            return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self._zstd is not None:
            return self._zstd.compress(data) + self._zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        return text


@dataclass
class Session:
    """One gateway connection."""

    socket: web.WebSocketResponse
    compressor: _Compressor
    query: dict[str, str]
    session_id: str = ""
    sequence: int = 0
    heartbeats: int = 0
    close_code: int | None = None  # who closed first: the code they gave

    async def close(self, code: int, message: bytes = b"") -> None:
        self.close_code = code
        await self.socket.close(code=code, message=message)

    async def send(self, payload: Json) -> None:
        framed = self.compressor.frame(json.dumps(payload))
        if isinstance(framed, bytes):
            await self.socket.send_bytes(framed)
        else:
            await self.socket.send_str(framed)

    async def dispatch(self, event: str, data: Any) -> None:
        self.sequence += 1
        await self.send({"op": DISPATCH, "s": self.sequence, "t": event, "d": data})


@dataclass
class GatewayStandIn:
    bot_token: str
    bot_user: Json
    guild_id: str
    application_id: str
    base_url: str = ""  # http://127.0.0.1:port, set when the server runs
    heartbeat_interval_ms: int = 41_250
    granted_intents: int = MESSAGE_CONTENT  # privileged intents enabled in the developer portal
    sessions: list[Session] = field(default_factory=list)  # identified, still open
    identifies: list[Json] = field(default_factory=list)  # IDENTIFY payloads' `d`
    resumes: list[Json] = field(default_factory=list)
    received: list[Json] = field(default_factory=list)  # every payload the bot sent
    connections: int = 0
    closed_codes: list[int | None] = field(default_factory=list)  # as each connection ended
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    # The guild as GUILD_CREATE tells it after READY (its channels and active threads), from
    # the REST stand-in, which knows them; None: the guild stays unavailable.
    guild: Callable[[], Json] | None = None
    _known_sessions: dict[str, int] = field(default_factory=dict)  # session id → last sequence

    @property
    def url(self) -> str:
        """What `GET /gateway/bot` answers: the gateway's address, without the query the
        client adds (`v`, `encoding`, `compress`)."""
        return "ws" + self.base_url.removeprefix("http") + GATEWAY_PATH

    def attach(self, app: web.Application) -> None:
        app.router.add_get(GATEWAY_PATH, self._connect)

    # -- reading what happened -------------------------------------------------------------

    async def wait(self, done: Callable[[], bool], *, seconds: float = WAIT) -> None:
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(done)

    async def wait_identified(self, count: int = 1) -> Json:
        """The `count`-th IDENTIFY, once the client is READY on it."""
        await self.wait(lambda: len(self.identifies) >= count and bool(self.sessions))
        return self.identifies[count - 1]

    async def wait_closed(self) -> None:
        await self.wait(lambda: not self.sessions and self.connections == len(self.closed_codes))

    # -- acting ----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: Any) -> None:
        """Send event `event` to every identified connection."""
        for session in list(self.sessions):
            if not session.socket.closed:
                await session.dispatch(event, data)

    async def drop(self, code: int = 4000) -> None:
        """Close every connection from Discord's side (a restart of the gateway)."""
        for session in list(self.sessions):
            await session.close(code)

    # -- serving ---------------------------------------------------------------------------

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True, autoclose=False, max_msg_size=0)
        await socket.prepare(request)
        query = dict(request.query)
        session = Session(socket, _Compressor(query.get("compress", "")), query)
        async with self.changed:
            self.connections += 1
            self.changed.notify_all()
        try:
            await session.send(
                {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            while True:
                frame = await socket.receive()
                if frame.type is WSMsgType.CLOSE:  # the client said goodbye, with this code
                    session.close_code = session.close_code or int(frame.data)
                    await socket.close()
                    break
                if frame.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                if frame.type is WSMsgType.TEXT:  # the client never compresses what it sends
                    await self._received(session, json.loads(frame.data))
        finally:
            async with self.changed:
                if session in self.sessions:
                    self.sessions.remove(session)
                if session.session_id:
                    self._known_sessions[session.session_id] = session.sequence
                self.closed_codes.append(session.close_code or socket.close_code)
                self.changed.notify_all()
        return socket

    async def _received(self, session: Session, payload: Json) -> None:
        async with self.changed:
            self.received.append(payload)
            self.changed.notify_all()
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            session.heartbeats += 1
            await session.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY and isinstance(data, dict):
            await self._identify(session, data)
        elif op == RESUME and isinstance(data, dict):
            await self._resume(session, data)

    async def _identify(self, session: Session, data: Json) -> None:
        if data.get("token") != self.bot_token:
            await session.close(AUTHENTICATION_FAILED, b"Authentication failed.")
            return
        intents = int(data.get("intents") or 0)
        if intents & MESSAGE_CONTENT and not self.granted_intents & MESSAGE_CONTENT:
            await session.close(DISALLOWED_INTENTS, b"Disallowed intent(s).")
            return
        session.session_id = secrets.token_hex(16)
        await session.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.bot_user,
                "guilds": [{"id": self.guild_id, "unavailable": True}],
                "session_id": session.session_id,
                "session_type": "normal",
                "resume_gateway_url": self.url,
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "application": {"id": self.application_id, "flags": MESSAGE_CONTENT_FLAGS},
                "_trace": ['["gateway-standin",{"micros":1}]'],
            },
        )
        if self.guild is not None:  # then the guild comes in, as Discord streams it
            await session.dispatch("GUILD_CREATE", self.guild())
        async with self.changed:
            self.identifies.append(data)
            self.sessions.append(session)
            self.changed.notify_all()

    async def _resume(self, session: Session, data: Json) -> None:
        known = str(data.get("session_id") or "")
        if data.get("token") != self.bot_token or known not in self._known_sessions:
            await session.send({"op": INVALID_SESSION, "d": False})
            return
        session.session_id = known
        session.sequence = self._known_sessions[known]
        await session.dispatch("RESUMED", {"_trace": ['["gateway-standin",{"micros":1}]']})
        async with self.changed:
            self.resumes.append(data)
            self.sessions.append(session)
            self.changed.notify_all()


# The application's flags: GATEWAY_MESSAGE_CONTENT_LIMITED (1 << 19), as an unverified app
# with the intent switched on in the developer portal has.
MESSAGE_CONTENT_FLAGS = 1 << 19

_sequence = itertools.count(1)


def message_create(
    content: str,
    *,
    author: Json,
    channel_id: str,
    guild_id: str,
    mentions: list[Json] | None = None,
    referenced: Json | None = None,
    message_id: str,
    timestamp: str,
    member: Json | None = None,
) -> Json:
    """A MESSAGE_CREATE event's `d`, as the gateway sends it for someone's message in a
    guild channel or thread (with the author's `member`, and the replied-to message)."""
    data: Json = {
        "id": message_id,
        "type": 19 if referenced is not None else 0,
        "channel_id": channel_id,
        "guild_id": guild_id,
        "content": content,
        "author": author,
        "member": member
        or {
            "roles": [],
            "nick": None,
            "joined_at": "2025-01-06T09:00:00.000000+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        },
        "timestamp": timestamp,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "flags": 0,
        "nonce": str(next(_sequence)),
    }
    if referenced is not None:
        data["message_reference"] = {
            "type": 0,
            "message_id": referenced["id"],
            "channel_id": referenced["channel_id"],
            "guild_id": guild_id,
        }
        data["referenced_message"] = referenced
    return data
