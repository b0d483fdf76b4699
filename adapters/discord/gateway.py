"""Discord's gateway beside the HTTP interactions endpoint (A3, `DISCORD_GATEWAY=true`).

Interactions never see a plain message, so notes from a job's thread (B3), which Slack's
`app_mention` and Teams' reply chains bring in, need the gateway: discord.py's own client,
with the intents guilds, guild messages and message content (a privileged intent, switched on
in the Developer Portal), reading only `MESSAGE_CREATE`. A message mentioning the bot, or
replying to one of its messages, is handed to the adapter (`DiscordAdapter.thread_message`);
everything else is dropped before anything is looked up.

discord.py reconnects (and resumes) on its own after a dropped connection; a crash of the
client itself is logged and the client is started again after a growing pause. A gateway
event discord.py cannot read (a field of the wrong type) is logged and dropped instead of
ending the connection. The gateway's address is asked of the REST API (`GET /gateway/bot`),
as Discord recommends; it is the loopback stand-in's in the tests.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord.rest import DiscordRest
from core.delivery.senders import DeliveryError
from core.support.background import stop
from core.support.lifecycle import Lifecycle

log = logging.getLogger(__name__)

FIRST_PAUSE, LONGEST_PAUSE = 1.0, 60.0  # seconds before starting a crashed client again
CLOSE_WITHIN = 5.0  # seconds a stop waits for the client to say goodbye
SPOKEN_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def intents() -> discord.Intents:
    """Guilds (threads and their parents), guild messages, and their content (privileged)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


@dataclass(frozen=True)
class Heard:
    """A message someone addressed to the bot in a guild, as the adapter needs it."""

    message_id: str
    channel_id: str
    guild_id: str
    author_id: str
    author_name: str
    text: str  # the words, without the bot's mention
    reply_to: str  # the id of the bot's message it answers, or ""
    thread_parent: str  # the parent channel when the channel is a thread discord.py knows


def heard(message: discord.Message, bot_id: int) -> Heard | None:
    """The message if it is someone's (not a bot's, not a webhook's) words addressed to the
    bot in a guild: mentioning it, or replying to one of its messages; None otherwise."""
    author = message.author
    if author.bot or message.webhook_id is not None or author.id == bot_id:
        return None
    if message.type not in SPOKEN_TYPES:  # joins, pins, thread starters…: not words
        return None
    channel = message.channel
    guild = message.guild.id if message.guild is not None else getattr(channel, "guild_id", None)
    if not guild:
        return None  # a direct message: no job's thread there
    mentioned = bot_id in message.raw_mentions
    reply_to = ""
    reference = message.reference
    replied = reference.resolved if reference is not None else None
    if isinstance(replied, discord.Message) and replied.author.id == bot_id:
        reply_to = str(replied.id)
    if not mentioned and not reply_to:
        return None
    parent = channel.parent_id if isinstance(channel, discord.Thread) else None
    return Heard(
        message_id=str(message.id),
        channel_id=str(channel.id),
        guild_id=str(guild),
        author_id=str(author.id),
        author_name=author.display_name or author.name or str(author.id),
        text=without_mention(message.content, bot_id),
        reply_to=reply_to,
        thread_parent=str(parent) if parent else "",
    )


def without_mention(content: str, bot_id: int) -> str:
    """`content` without the bot's own mentions (`<@id>`, `<@!id>`), spaces collapsed."""
    return " ".join(re.sub(rf"<@!?{bot_id}>", " ", content).split())


OnHeard = Callable[[Heard], None]

# discord.py warns of what is true by design here: interactions come over HTTP (the endpoint
# URL is set), and the bot never joins voice. Said at every start, they would only alarm.
EXPECTED_WARNINGS = ("Application has an interaction endpoint URL set", "davey is not installed")


class _ExpectedWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(EXPECTED_WARNINGS)


_QUIET = _ExpectedWarnings()


class _GatewayClient(discord.Client):
    def __init__(self, on_heard: OnHeard) -> None:
        super().__init__(intents=intents(), enable_debug_events=False)
        self._on_heard = on_heard
        _guard_parsers(self)

    async def on_message(self, message: discord.Message) -> None:
        if self.user is None:
            return
        try:
            said = heard(message, self.user.id)
        except (TypeError, ValueError, AttributeError) as error:  # a field of the wrong type
            log.warning("Discord gateway: dropped an unreadable message (%s)", type(error).__name__)
            return
        if said is not None:
            self._on_heard(said)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Discord gateway: the %s handler failed", event_method)


def _guard_parsers(client: discord.Client) -> None:
    """An event discord.py cannot parse is dropped and logged; unguarded, its exception ends
    the client's connection loop. (The parsers are a dict the websocket shares, keyed by
    event name: wrapped in place, before the first connection.)"""
    parsers: dict[str, Callable[[Any], None]] = client._connection.parsers

    def guarded(event: str, parse: Callable[[Any], None], data: Any) -> None:
        try:
            parse(data)
        except Exception as error:
            log.warning(
                "Discord gateway: dropped a %s event discord.py could not read (%s)",
                event,
                type(error).__name__,
            )

    for event, parse in list(parsers.items()):
        parsers[event] = functools.partial(guarded, event, parse)


class DiscordGateway(Lifecycle):
    """discord.py's gateway client, run and watched in a task of its own."""

    def __init__(self, token: str, rest: DiscordRest, on_heard: OnHeard) -> None:
        self._token = token
        self._rest = rest
        self._on_heard = on_heard
        self._task: asyncio.Task[None] | None = None
        self._client: _GatewayClient | None = None
        self._stopping = False
        self.starts = 0  # clients started so far (a crash starts a new one)

    @property
    def client(self) -> discord.Client | None:
        return self._client

    async def _start(self) -> None:
        logging.getLogger("discord.client").addFilter(_QUIET)  # once: a filter is a set member
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="discord-gateway")

    async def _stop(self) -> None:
        self._stopping = True
        client, task = self._client, self._task
        if client is not None:
            try:
                async with asyncio.timeout(CLOSE_WITHIN):
                    await client.close()
            except TimeoutError:
                log.warning("Discord gateway: no goodbye within %s s; leaving anyway", CLOSE_WITHIN)
        if task is not None:
            await stop(task)
        self._task = self._client = None
        log.info("Discord gateway closed")

    async def _run(self) -> None:
        pause = FIRST_PAUSE
        while not self._stopping:
            try:
                await self._use_gateway_url()
                self._client = _GatewayClient(self._on_heard)
                self.starts += 1
                await self._client.start(self._token, reconnect=True)
            except discord.PrivilegedIntentsRequired:
                log.error(
                    "Discord gateway refused: switch on the Message Content intent (Bot page "
                    "of the Developer Portal), then restart; notes from threads stay off"
                )
                return
            except discord.LoginFailure:
                log.error("Discord gateway refused the bot token; notes from threads stay off")
                return
            except Exception as error:  # anything else: log, pause, start a fresh client
                log.warning(
                    "Discord gateway stopped (%s); starting again in %.0f s",
                    type(error).__name__,
                    pause,
                    exc_info=error,
                )
            finally:
                if self._client is not None and not self._client.is_closed():
                    await self._client.close()
            if self._stopping:
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    async def _use_gateway_url(self) -> None:
        """The address Discord gives (`GET /gateway/bot`). discord.py's `Client` connects to
        a class-wide default, which, like `Route.BASE`, is one per process: set it here."""
        try:
            answer = await self._rest.request("GET", "/gateway/bot")
        except DeliveryError as error:
            raise ConnectionError(f"GET /gateway/bot failed: {error.detail}") from None
        url = answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            raise ConnectionError("GET /gateway/bot gave no websocket address")
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
