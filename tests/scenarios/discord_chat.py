"""The scenarios' chat on Discord: interactions signed and shaped as Discord sends them
(application commands with typed options, button presses) against the whole bot in gateway
mode, and messages in threads through the gateway stand-in, read back from the Discord API
stand-in."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from adapters.discord.commands import option_name
from core.commands.grammar.registry import Kind, Option, Param, find_verb
from core.commands.grammar.tokens import tokenize
from tests.adapters.discord_gateway_standin import message_create
from tests.adapters.discord_harness import SIGNING_KEY, DiscordHarness, discord_harness
from tests.adapters.discord_standin import (
    BOT_USER_ID,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    DiscordStandIn,
    _now_iso,
    bot_user,
    component,
    discord_standin,
    signed_interaction,
    slash_command,
    snowflake,
    user_object,
)
from tests.scenarios.chat import (
    ALERTS,
    ALICE,
    BROKEN,
    CAROL,
    OPS,
    QUICK,
    SITE,
    HarnessedBot,
    Seen,
    eventually,
    fetch,
    have_seen_the_tour,
    with_raw,
)

CHANNELS = {OPS: CHANNEL_ID, ALERTS: "1300000000000000099"}
MESSAGE, UPDATE, MODAL = 4, 7, 9
FORGERIES = ("bad signature", "no signature", "stale timestamp", "tampered body")
_ESCAPED = re.compile(r"\\(.)")
# What a starting bot reads (who it is; the gateway's address and its application): not saying.
STARTUP_READS = {"GET /users/@me", "GET /gateway/bot", "GET /oauth2/applications/@me"}


def _words(message: dict[str, Any]) -> str:
    """What a reader of the message gets: its content, then each embed's words."""
    found = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        found += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        found += [f"{f['name']} {f['value']}" for f in embed.get("fields") or []]
        found.append(str((embed.get("footer") or {}).get("text") or ""))
    return _ESCAPED.sub(r"\1", "\n".join(w for w in found if w))  # markdown escapes undone


def _seen(message: dict[str, Any], message_id: str | None = None) -> Seen:
    buttons = [
        str(button["custom_id"]).split(":")[0]
        for row in message.get("components") or []
        for button in row.get("components") or []
        if "custom_id" in button
    ]
    private = bool(int(message.get("flags") or 0) & EPHEMERAL)
    return Seen(_words(message), tuple(buttons), private, message_id, {"message": message})


def _typed(argument: Param | Option, value: str) -> object:
    if argument.kind in (Kind.JOB, Kind.DRAFT, Kind.INT):
        return int(value.lstrip("#"))
    if argument.kind is Kind.WHO and value.startswith("<@") and value.endswith(">"):
        return value[2:-1]  # picked in the user option: Discord sends the person's id
    return value


def slash(text: str) -> tuple[str, dict[str, object]]:
    """What a person picks in Discord's command UI to say `text`: the subcommand and its
    typed options (the reverse of what the adapter does)."""
    tokens = tokenize(text)
    verb = find_verb(tokens[0].value)
    used = 1
    while verb is not None and verb.subverbs:
        verb = verb.subverb(tokens[used].value)
        used += 1
    assert verb is not None, text
    options: dict[str, object] = {}
    positionals: list[str] = []
    rest = tokens[used:]
    while rest:
        token = rest.pop(0)
        option = verb.option(token.value[2:]) if token.value.startswith("--") else None
        if option is None:
            positionals.append(token.value)
        elif option.kind is Kind.FLAG:
            options[option_name(option.name)] = True
        else:
            options[option_name(option.name)] = _typed(option, rest.pop(0).value)
    for index, param in enumerate(verb.params):
        if param.kind is Kind.TEXT:
            options[option_name(param.name)] = " ".join(positionals[index:])
        elif index < len(positionals):
            options[option_name(param.name)] = _typed(param, positionals[index])
    return verb.path, options


def _in(channel: str, interaction: dict[str, Any]) -> dict[str, Any]:
    interaction["channel_id"] = channel
    interaction["channel"] = {**interaction["channel"], "id": channel}
    return interaction


class DiscordChat(HarnessedBot[DiscordHarness]):
    platform = "discord"
    note_link = rf"https://discord\.com/channels/{GUILD_ID}/\d+/\d+$"

    def __init__(self, tmp_path: Path, standin: DiscordStandIn) -> None:
        super().__init__(
            lambda: discord_harness(
                tmp_path, standin, targets=[QUICK, BROKEN, SITE], discord_gateway=True
            )
        )
        self.standin = standin
        self._ids = itertools.count(1)
        self._starts = 0
        self._said_token = ""  # the interaction token of the last command
        self._known: set[str] = set()  # the messages there were before it

    async def _answered(self, interaction: dict[str, Any]) -> dict[str, Any]:
        status, answer = await self.harness.send(interaction)
        assert status == 200, answer
        assert isinstance(answer, dict)
        return answer

    async def say(self, person: str, text: str, *, channel: str = OPS) -> Seen:
        path, options = slash(text)
        interaction = _in(CHANNELS[channel], slash_command(path, options, user=person))
        self._said_token = str(interaction["token"])
        self._known = set(self.standin.messages)
        answer = await self._answered(interaction)
        if answer["type"] == 5:  # deferred: the answer follows through the webhook
            await self.harness.discord.drain()
        original = self.standin.originals[interaction["token"]]
        if answer["type"] == MESSAGE:
            assert original["embeds"] == answer["data"]["embeds"]
        return _seen(original, str(original["id"]))

    async def follow_ups(self, person: str) -> list[Seen]:
        await self.harness.discord.drain()
        original = self.standin.originals.get(self._said_token) or {}
        return [
            _seen(message, message_id)
            for message_id, message in self.standin.messages.items()
            if message_id not in self._known
            and message_id != original.get("id")
            and message.get("webhook_id")  # an interaction's follow-up
        ]

    async def press(self, person: str, on: Seen, action: str, obj: str, version: int) -> Seen:
        assert on.message_id is not None
        pressed = self.standin.messages[on.message_id]
        before = dict(pressed)
        interaction = component(f"{action}:{obj}:{version}", pressed, user=person)
        answer = await self._answered(interaction)
        if answer["type"] == UPDATE:  # accepted: the pressed message is redrawn for everyone
            assert self.standin.messages[on.message_id]["embeds"] == answer["data"]["embeds"]
            return _seen(self.standin.messages[on.message_id], on.message_id)
        # Refused: an ephemeral answer to the presser; the message stays as it was.
        assert answer["type"] == MESSAGE and answer["data"]["flags"] & EPHEMERAL, answer
        assert self.standin.messages[on.message_id]["embeds"] == before["embeds"]
        return _seen(answer["data"])

    def _job_message_id(self, job_id: int) -> str:
        [(message_id,)] = self.rows(
            f"SELECT message_id FROM posted_messages WHERE kind = 'job' AND job_id = {job_id}"
        )
        return str(message_id)

    async def reply_in_job_thread(self, person: str, job_id: int, text: str) -> None:
        """`person` writes in the job's thread, mentioning the bot: Discord sends the message
        to the bot's gateway connection (gateway mode, as the other platforms' events)."""
        thread = self._job_message_id(job_id)  # a thread started from a message has its id
        notes = len(self.rows("SELECT id FROM annotations"))
        said = message_create(
            f"<@{BOT_USER_ID}> {text}",
            author=user_object(person),
            channel_id=thread,
            guild_id=GUILD_ID,
            mentions=[bot_user()],
            message_id=snowflake(),
            timestamp=_now_iso(),
        )
        await self.standin.gateway_standin.dispatch("MESSAGE_CREATE", said)
        await eventually(
            lambda: len(self.rows("SELECT id FROM annotations")),
            lambda count: count > notes,
            f"a note from job #{job_id}'s thread",
        )
        await self.settle()

    async def start(self) -> None:
        await super().start()
        self._starts += 1  # each process identifies once on the gateway before it is used
        await self.standin.gateway_standin.wait_identified(self._starts)
        seen = [self.principal(ALICE), self.principal(CAROL)]
        await have_seen_the_tour(self.harness.bot.uow_factory, seen)

    async def job_message(self, job_id: int) -> Seen:
        message_id = self._job_message_id(job_id)
        message = await eventually(
            lambda: self.standin.messages[message_id],
            lambda m: m["edited_timestamp"] is not None,
            f"a redraw of job #{job_id}'s message",
        )
        return _seen(message, message_id)

    async def redrawn_draft_card(self, draft_id: int, channel: str) -> Seen:
        # The dispatcher writes where it posted a moment after posting.
        [(message_id,)] = await eventually(
            lambda: self.rows(
                "SELECT message_id FROM posted_messages"
                f" WHERE draft_id = {draft_id} AND channel = '{CHANNELS[channel]}'"
            ),
            bool,
            f"draft #{draft_id}'s card in {channel}",
        )
        message = await eventually(
            lambda: self.standin.messages[str(message_id)],
            lambda m: m["edited_timestamp"] is not None,
            f"a redraw of draft #{draft_id}'s card in {channel}",
        )
        return _seen(message, str(message_id))

    def _posts_in(self, channel: str) -> list[dict[str, Any]]:
        return [
            self.standin.messages[r.json["id"]] if "id" in (r.json or {}) else r.json
            for r in self.standin.requests_to("POST /channels/{channel_id}/messages")
            if r.params["channel_id"] == channel and r.status == 200
        ]

    async def job_thread(self, job_id: int) -> list[Seen]:
        thread = self._job_message_id(job_id)
        posts = await eventually(lambda: self._posts_in(thread), bool, "a reply in the thread")
        return [_seen(p) for p in posts]

    async def posted_in(self, channel: str) -> list[Seen]:
        posts = await eventually(
            lambda: self._posts_in(CHANNELS[channel]), bool, f"a post in {channel}"
        )
        return [_seen(p, self._id_of(CHANNELS[channel], p)) for p in posts]

    def _id_of(self, channel: str, posted: dict[str, Any]) -> str | None:
        """The id the stand-in gave a post (the request named it only by its nonce)."""
        if "id" in posted:
            return str(posted["id"])
        nonce = str(posted.get("nonce") or "")
        found = self.standin.nonces.get((channel, nonce)) if nonce else None
        return str(found["id"]) if found else None

    async def forge(self, forgery: str, text: str) -> int:
        path, options = slash(text)
        interaction = slash_command(path, options, user="alice")
        if forgery == "bad signature":  # signed, but not with the application's key
            status, _ = await self.harness.send(interaction, key=SigningKey(bytes(32)))
        elif forgery == "stale timestamp":  # a replay, long after Discord sent it
            status, _ = await self.harness.send(interaction, timestamp=int(time.time()) - 3600)
        elif forgery == "tampered body":
            body, headers = signed_interaction(SIGNING_KEY, interaction)
            status, _ = await self.harness.post(body.replace(b"quick", b"other"), headers, {})
        else:
            body, _ = signed_interaction(SIGNING_KEY, interaction)
            headers = {"Content-Type": "application/json"}
            status, _ = await self.harness.post(body, headers, {})
        return status

    async def first_post_now(self, channel: str) -> Seen:
        where = CHANNELS[channel]
        # The stand-in keeps each message as it reads now (edits applied), in order; the
        # interactions' answers (by webhook) are not posts of the bot's.
        kept = await eventually(
            lambda: [
                m
                for m in self.standin.messages.values()
                if m["channel_id"] == where and not m.get("webhook_id")
            ],
            bool,
            f"a post in {channel}",
        )
        return with_raw(_seen(kept[0], str(kept[0]["id"])), kept[0])

    async def file_in(self, channel: str) -> tuple[str, bytes] | None:
        files = [
            part
            for r in self.standin.requests_to("POST /channels/{channel_id}/messages")
            if r.params["channel_id"] == CHANNELS[channel] and r.status == 200
            for part in r.files()
        ]
        if not files:
            return None
        [part] = files
        assert part.filename is not None
        return part.filename, part.data

    async def download(self, url: str) -> tuple[int, dict[str, str], bytes]:
        return await fetch(self.harness.client, url)

    def sent_anything(self) -> bool:
        return any(r.route not in STARTUP_READS for r in self.standin.requests)

    def mention(self, person: str) -> str:
        return f"<@{user_object(person)['id']}>"

    def principal(self, person: str) -> str:
        return f"discord:{GUILD_ID}:{user_object(person)['id']}"


@asynccontextmanager
async def discord_chat(tmp_path: Path) -> AsyncIterator[DiscordChat]:
    async with discord_standin() as standin:
        chat = DiscordChat(tmp_path, standin)
        await chat.start()
        try:
            yield chat
        finally:
            await chat.stop()
