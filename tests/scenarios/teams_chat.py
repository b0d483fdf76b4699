"""The scenarios' chat on Teams: activities shaped as Teams sends them (messages with the bot's
mention, `adaptiveCard/action` invokes) against the whole bot, read back from the connector
stand-in the activities name as their `serviceUrl`."""

from __future__ import annotations

import base64
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BOT_KEY, create_app
from bot.bootstrap import Bot
from bot.config import Settings
from tests.adapters.teams_standin import (
    CHANNEL,
    TENANT,
    ConnectorStandIn,
    card_action,
    connector_standin,
    message,
    user_mention,
)
from tests.clients import corpus
from tests.scenarios.chat import (
    ALERTS,
    ALICE,
    BROKEN,
    CAROL,
    NINA,
    OPS,
    QUICK,
    SITE,
    Seen,
    eventually,
    fetch,
    have_seen_the_tour,
    with_raw,
)

# aad object id, display name, locale
USERS = {
    ALICE: ("aad-alice", "Alice Admin", "en-US"),
    CAROL: ("aad-carol", "Carol", "fr-FR"),
    NINA: ("aad-nina", "Nina", "en-US"),  # no role
}
CHANNELS = {OPS: CHANNEL, ALERTS: "19:alerts00000000000000000000000000@thread.tacv2"}
CARD = "application/vnd.microsoft.card.adaptive"


def _unsigned_token(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    # RS256 with no key id and a made-up signature: issued by nobody Teams trusts.
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.{part({'sig': 'x'})}"


# What reaches a bot that has a client id configured (JWT validation on) without a valid token.
FORGERIES = {
    "missing token": None,
    "basic credentials": "Basic YWxpY2U6c2VjcmV0",
    "empty bearer": "Bearer",
    "malformed token": "Bearer not-a-jwt",
    "token from another issuer": "Bearer "
    + _unsigned_token({"aud": "app-id", "iss": "https://evil.example/"}),
}


def card_text(card: dict[str, Any]) -> str:
    """What a reader of the card gets: its spoken summary, then every text and fact in it."""
    found: list[str] = [card.get("speak", "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"TextBlock", "TextRun"}:
                found.append(str(node.get("text", "")))
            if node.get("type") == "FactSet":
                found.extend(f"{f['title']} {f['value']}" for f in node.get("facts", []))
            for key, value in node.items():
                if key != "actions":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return "\n".join(found)


def _seen(activity_or_card: dict[str, Any], message_id: str | None = None) -> Seen:
    card = activity_or_card
    if "attachments" in activity_or_card:
        [attachment] = activity_or_card["attachments"]
        assert attachment["contentType"] == CARD
        card = attachment["content"]
    # A button that opens its form under the card (Action.ShowCard) is named by its id.
    verbs = tuple(
        a["verb"] if a["type"] == "Action.Execute" else a["id"]
        for a in card.get("actions", [])
        if a["type"] in ("Action.Execute", "Action.ShowCard")
    )
    return Seen(card_text(card), verbs, message_id=message_id, extra={"card": card})


class TeamsChat:
    platform = "teams"
    # The chain's conversation id (encoded), the reply's id, the tenant, the chain's root.
    note_link = (
        r"https://teams\.microsoft\.com/l/message/19%3Aops\w+%40thread\.tacv2/\d+"
        rf"\?tenantId={TENANT}&parentMessageId=\d+$"
    )

    def __init__(self, tmp_path: Path, connector: ConnectorStandIn) -> None:
        self._tmp_path = tmp_path
        self.connector = connector
        self._stack = AsyncExitStack()
        self._client: TestClient[web.Request, web.Application] | None = None
        self._ids = itertools.count(1)
        self._said = ""  # the activity id of the last command

    def settings(self, **extra: Any) -> Settings:
        return Settings(
            database_url=f"sqlite+aiosqlite:///{self._tmp_path / 'bot.db'}",
            data_dir=str(self._tmp_path / "var"),
            admins=[self.principal(ALICE)],
            grants=[{"principal": self.principal(CAROL), "role": "reviewer"}],  # type: ignore[list-item]
            targets=[QUICK, BROKEN, SITE],  # type: ignore[list-item]
            scheduler=False,
            **extra,
        )

    @property
    def client(self) -> TestClient[web.Request, web.Application]:
        assert self._client is not None
        return self._client

    @property
    def bot(self) -> Bot:
        return self.client.app[BOT_KEY]

    async def _serve(
        self, stack: AsyncExitStack, settings: Settings
    ) -> TestClient[web.Request, web.Application]:
        server = TestServer(corpus.tap(create_app(settings)), host="127.0.0.1")
        await stack.enter_async_context(server)
        return await stack.enter_async_context(TestClient(server))

    async def start(self) -> None:
        self._client = await self._serve(self._stack, self.settings())
        seen = [self.principal(ALICE), self.principal(CAROL)]
        await have_seen_the_tour(self.bot.uow_factory, seen)

    async def stop(self) -> None:
        await self._stack.aclose()
        self._client = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def settle(self) -> None:
        await self.bot.executor.idle()
        await self.bot.exports.idle()
        await self.bot.previews.idle()
        await self.bot.audit_writer.flush()

    def _activity_id(self) -> str:
        return f"17000001{next(self._ids):05d}"

    async def _send(self, activity: dict[str, Any]) -> None:
        response = await self.client.post("/api/messages", json=activity)
        assert response.status in (200, 202), await response.text()

    async def _write(self, person: str, text: str, conversation: str) -> str:
        """`person` writes `text` in `conversation` (mentioning the bot); the activity's id."""
        user, name, locale = USERS[person]
        activity_id = self._activity_id()
        await self._send(
            message(
                text,
                service_url=self.connector.service_url,
                user=user,
                name=name,
                locale=locale,
                conversation=conversation,
                activity_id=activity_id,
                mentions=self._mentions(text, conversation),
            )
        )
        return activity_id

    def _mentions(self, text: str, conversation: str) -> list[dict[str, Any]]:
        """The entities of the people `text` mentions. As the Teams web client may, with only
        their `29:` id: the bot finds them in the conversation's roster, where they are."""
        found = []
        channel = conversation.partition(";")[0]
        for user, name, _ in USERS.values():
            if f"<at>{name}</at>" not in text:
                continue
            roster = self.connector.members.get(channel, [])
            if not any(m["aadObjectId"] == user for m in roster):
                self.connector.member(channel, user, name)
            found.append(user_mention(name, member=f"29:{user}"))
        return found

    def mention(self, person: str) -> str:
        return f"<at>{USERS[person][1]}</at>"

    async def say(self, person: str, text: str, *, channel: str = OPS) -> Seen:
        activity_id = await self._write(person, text, CHANNELS[channel])
        self._said = activity_id
        # The answer is a reply to the message, in its thread.
        index = await eventually(
            lambda: next(
                (
                    i
                    for i, (verb, _, body) in enumerate(self.connector.sent)
                    if verb == "POST" and body.get("replyToId") == activity_id
                ),
                None,
            ),
            lambda i: i is not None,
            f"an answer to {text!r}",
        )
        assert index is not None
        return _seen(self.connector.sent[index][2], self.connector.answered[index])

    async def follow_ups(self, person: str) -> list[Seen]:
        await self.settle()
        replies = [
            index
            for index, (verb, _, body) in enumerate(self.connector.sent)
            if verb == "POST" and body.get("replyToId") == self._said
        ]
        return [_seen(self.connector.sent[i][2], self.connector.answered[i]) for i in replies[1:]]

    async def press(self, person: str, on: Seen, action: str, obj: str, version: int) -> Seen:
        user, name, locale = USERS[person]
        assert on.message_id is not None
        updates_before = self._updates_of(on.message_id)
        invoke = card_action(
            action,
            {"object": obj, "version": version},
            service_url=self.connector.service_url,
            user=user,
            name=name,
            locale=locale,
            card_message_id=on.message_id,
            conversation=on.extra.get("conversation", CHANNEL),
        )
        response = await self.client.post("/api/messages", json=invoke)
        assert response.status == 200  # an invoke is answered in its HTTP response
        answer = await response.json()
        assert answer["statusCode"] == 200, answer
        if answer["type"] == CARD:
            # Accepted: the presser gets the new card, and everyone's copy is redrawn with it.
            [*_, redrawn] = self._updates_of(on.message_id)
            assert redrawn["attachments"][0]["content"] == answer["value"]
            return _seen(answer["value"], on.message_id)
        # Refused: a message to the presser only; the card stays as it was.
        assert answer["type"] == "application/vnd.microsoft.activity.message", answer
        assert self._updates_of(on.message_id) == updates_before
        return Seen(answer["value"], private=True)

    def _updates_of(self, message_id: str) -> list[dict[str, Any]]:
        return [
            body
            for verb, path, body in self.connector.sent
            if verb == "PUT" and path.endswith(f"/activities/{message_id}")
        ]

    def _job_message_id(self, job_id: int, kind: str) -> str:
        [(message_id,)] = self.rows(
            "SELECT message_id FROM posted_messages"
            f" WHERE kind = '{kind}' AND job_id = {job_id} AND channel = '{CHANNEL}'"
        )
        return str(message_id)

    def _chain(self, job_id: int) -> str:
        """A job's thread is the reply chain of the message its command was typed in."""
        return f"{CHANNEL};messageid={self._job_message_id(job_id, 'note')}"

    async def reply_in_job_thread(self, person: str, job_id: int, text: str) -> None:
        await self._write(person, text, self._chain(job_id))
        await self.settle()

    async def job_message(self, job_id: int) -> Seen:
        card_id = self._job_message_id(job_id, "job")
        updates = await eventually(
            lambda: self._updates_of(card_id), bool, f"a redraw of job #{job_id}'s card"
        )
        return _seen(updates[-1], card_id)

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
        updates = await eventually(
            lambda: self._updates_of(str(message_id)),
            bool,
            f"a redraw of draft #{draft_id}'s card in {channel}",
        )
        return _seen(updates[-1], str(message_id))

    async def job_thread(self, job_id: int) -> list[Seen]:
        chain = f"/v3/conversations/{self._chain(job_id)}/activities"
        said = await eventually(
            lambda: [
                body
                for verb, path, body in self.connector.sent
                if verb == "POST" and path.startswith(chain)
            ],
            bool,
            f"a reply in job #{job_id}'s chain",
        )
        return [_seen(body) for body in said]

    async def posted_in(self, channel: str) -> list[Seen]:
        top_level = f"/v3/conversations/{CHANNELS[channel]}/activities"
        posts = await eventually(
            lambda: [
                (body, self.connector.answered[i])
                for i, (verb, path, body) in enumerate(self.connector.sent)
                if verb == "POST" and path == top_level
            ],
            bool,
            f"a post in {channel}",
        )
        # Where a press on it comes from: its conversation, and its id there.
        return [
            replace(seen, extra={**seen.extra, "conversation": CHANNELS[channel]})
            for seen in (_seen(body, posted) for body, posted in posts)
        ]

    async def forge(self, forgery: str, text: str) -> int:
        authorization = FORGERIES[forgery]
        headers = {"Authorization": authorization} if authorization else {}
        activity = message(text, service_url=self.connector.service_url)
        # A bot with a client id configured: the SDK's JWT validation is on.
        async with AsyncExitStack() as stack:
            secured = self.settings(teams_client_id="app-id", teams_tenant_id=TENANT)
            client = await self._serve(stack, secured)
            response = await client.post("/api/messages", json=activity, headers=headers)
            if response.status == 401:
                body = await response.json()
                assert body == {"error": "Invalid token or authentication failed."}
            return response.status

    async def first_post_now(self, channel: str) -> Seen:
        top_level = f"/v3/conversations/{CHANNELS[channel]}/activities"
        index = await eventually(
            lambda: next(
                (
                    i
                    for i, (verb, path, _) in enumerate(self.connector.sent)
                    if verb == "POST" and path == top_level
                ),
                None,
            ),
            lambda i: i is not None,
            f"a post in {channel}",
        )
        assert index is not None
        message_id = self.connector.answered[index]
        body = [self.connector.sent[index][2], *self._updates_of(message_id)][-1]
        return with_raw(_seen(body, message_id), body)

    async def file_in(self, channel: str) -> tuple[str, bytes] | None:
        return None  # Teams takes no files from the bot: the link on the card is the way

    async def download(self, url: str) -> tuple[int, dict[str, str], bytes]:
        return await fetch(self.client, url)

    def sent_anything(self) -> bool:
        return bool(self.connector.sent)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self._tmp_path / "bot.db") as db:
            return db.execute(sql).fetchall()

    def principal(self, person: str) -> str:
        return f"teams:{TENANT}:{USERS[person][0]}"


@asynccontextmanager
async def teams_chat(tmp_path: Path) -> AsyncIterator[TeamsChat]:
    async with connector_standin() as connector:
        chat = TeamsChat(tmp_path, connector)
        await chat.start()
        try:
            yield chat
        finally:
            await chat.stop()
