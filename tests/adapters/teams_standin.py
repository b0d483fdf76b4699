"""A loopback stand-in of the Bot Connector service Teams gives as an activity's `serviceUrl`,
recording what the bot sends, plus builders of activities shaped as Teams sends them."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.clients import corpus

TENANT = "7e1c0a7e-0000-4000-8000-00000000te11"
BOT_ID = "28:exportbot-bot-id"
CHANNEL = "19:ops0000000000000000000000000000@thread.tacv2"
WAIT = 5.0


@dataclass
class ConnectorStandIn:
    base_url: str = ""
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # verb, path, body
    answered: list[str] = field(default_factory=list)  # the id answered to each of `sent`
    # Failures on demand: (a piece of the path, HTTP status), each answered once, in order.
    failures: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, str, int]] = field(default_factory=list)  # verb, path, status
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    # The conversations' rosters, as `GET /v3/conversations/{id}/members[/{member}]` answers
    # them: conversation id → members (`id` `29:…`, `name`, `aadObjectId`, …).
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    looked_up: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/"

    def activities(self) -> list[dict[str, Any]]:
        return [body for verb, _, body in self.sent if verb == "POST"]

    async def wait_for(self, count: int = 1) -> list[dict[str, Any]]:
        async with asyncio.timeout(WAIT), self.changed:
            await self.changed.wait_for(lambda: len(self.activities()) >= count)
        return self.activities()

    def member(self, conversation: str, user: str, name: str) -> dict[str, Any]:
        """Put `user` (an AAD object id) on `conversation`'s roster; the member as listed."""
        found = {
            "id": f"29:{user}",
            "name": name,
            "aadObjectId": user,
            "objectId": user,
            "tenantId": TENANT,
            "userRole": "user",
        }
        self.members.setdefault(conversation, []).append(found)
        return found

    async def _roster(self, request: web.Request) -> web.Response:
        """As the connector answers a roster read: 404 for a member it does not know."""
        self.looked_up.append((request.path, request.headers.get("Authorization", "")))
        failure = next((f for f in self.failures if f[0] in request.path), None)
        if failure is not None:
            self.failures.remove(failure)
            self.refused.append((request.method, request.path, failure[1]))
            return web.json_response({"error": {"code": "ServiceError"}}, status=failure[1])
        conversation = request.match_info["conversation"]
        roster = self.members.get(conversation.partition(";")[0], [])
        member = request.match_info.get("member")
        if member is None:
            return web.json_response(roster)
        found = next((m for m in roster if member in (m["id"], m["aadObjectId"])), None)
        if found is None:
            error = {"code": "MemberNotFoundInConversation", "message": "Member not found"}
            return web.json_response({"error": error}, status=404)
        return web.json_response(found)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        corpus.record("teams", _corpus_kind(request), body)
        failure = next((f for f in self.failures if f[0] in request.path), None)
        if failure is not None:
            self.failures.remove(failure)
            self.refused.append((request.method, request.path, failure[1]))
            # As the connector throttles: a Retry-After in seconds on 429.
            headers = {"Retry-After": "1"} if failure[1] == 429 else {}
            error = {"error": {"code": "Throttled" if failure[1] == 429 else "ServiceError"}}
            return web.json_response(error, status=failure[1], headers=headers)
        if request.method == "POST" and isinstance(body, dict) and body.get("id", "") is None:
            # As Microsoft's Agents Playground answers an activity whose "id" is null (the
            # Agents SDK writes it so): the message never arrives.
            self.refused.append((request.method, request.path, 400))
            error = {"error": {"code": "BadArgument", "message": "Invalid input"}}
            return web.json_response(error, status=400)
        if request.path == "/v3/conversations":  # a new 1:1 chat (proactive)
            # As Teams answers: the new chat's id (no first activity was sent with it).
            answered = f"a:1on1-{next(self._ids)}"
        elif request.method == "PUT":  # an update keeps its activity's id
            answered = request.path.rsplit("/", 1)[-1]
        else:
            answered = f"1700000000{next(self._ids):03d}"
        async with self.changed:
            self.sent.append((request.method, request.path, body))
            self.answered.append(answered)
            self.changed.notify_all()
        return web.json_response({"id": answered})


def _corpus_kind(request: web.Request) -> str:
    if request.path == "/v3/conversations":
        return "create-conversation"
    return "activity-update" if request.method == "PUT" else "activity"


@asynccontextmanager
async def connector_standin() -> AsyncIterator[ConnectorStandIn]:
    standin = ConnectorStandIn()
    app = web.Application()
    app.router.add_get("/v3/conversations/{conversation}/members", standin._roster)
    app.router.add_get("/v3/conversations/{conversation}/members/{member}", standin._roster)
    app.router.add_route("*", "/v3/{tail:.*}", standin._handle)
    async with TestServer(app, host="127.0.0.1") as server:
        standin.base_url = str(server.make_url("")).rstrip("/")
        yield standin


_activity_ids = itertools.count(1800000000001)  # apart from the ids tests choose


def next_activity_id() -> str:
    """A fresh activity id: Teams gives each activity its own (a replay repeats it)."""
    return str(next(_activity_ids))


def message(
    text: str,
    *,
    service_url: str,
    user: str = "aad-alice",
    name: str = "Alice Admin",
    tenant: str = TENANT,
    conversation: str = CHANNEL,
    conversation_type: str = "channel",
    mention: bool = True,
    locale: str = "en-US",
    activity_id: str = "",
    channel_name: str | None = None,
    conversation_name: str | None = None,
    mentions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A message activity as Teams sends it: the bot's mention in the text and in
    `entities`, the tenant in `conversation` and `channelData`; a channel's name in
    `channelData.channel` (a team's General channel has none), a group chat's name in
    `conversation.name`."""
    at = "<at>exportbot</at>"
    entities = (
        [{"type": "mention", "text": at, "mentioned": {"id": BOT_ID, "name": "exportbot"}}]
        if mention
        else []
    )
    entities.extend(mentions or [])  # people mentioned in `text` (see `user_mention`)
    channel_data: dict[str, Any] = {"tenant": {"id": tenant}, "teamsChannelId": conversation}
    if conversation_type == "channel":
        root = conversation.partition(";")[0]
        channel_data["channel"] = {"id": root}
        channel_data["team"] = {"id": "19:team-general@thread.tacv2", "name": "Exports"}
        if channel_name is not None:
            channel_data["channel"]["name"] = channel_name
    chat: dict[str, Any] = {
        "id": conversation,
        "conversationType": conversation_type,
        "tenantId": tenant,
        "isGroup": conversation_type != "personal",
    }
    if conversation_name is not None:
        chat["name"] = conversation_name
    return {
        "type": "message",
        "id": activity_id or next_activity_id(),
        "timestamp": "2026-11-25T09:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": name, "aadObjectId": user},
        "conversation": chat,
        "recipient": {"id": BOT_ID, "name": "exportbot"},
        "text": f"{at} {text}" if mention else text,
        "textFormat": "plain",
        "locale": locale,
        "entities": entities,
        "channelData": channel_data,
    }


def user_mention(name: str, *, user: str = "", member: str = "") -> dict[str, Any]:
    """The entity Teams adds for a person @mentioned in a message (`<at>{name}</at>` in its
    text): with the AAD object id (`user`), or only the `29:` id (`member`), as Teams sends
    either depending on the client."""
    mentioned: dict[str, Any] = {"id": member or f"29:{user}", "name": name}
    if user:
        mentioned["aadObjectId"] = user
    return {"type": "mention", "text": f"<at>{name}</at>", "mentioned": mentioned}


def card_action(
    verb: str,
    data: dict[str, Any],
    *,
    service_url: str,
    user: str,
    name: str,
    card_message_id: str = "1700000000002",
    tenant: str = TENANT,
    conversation: str = CHANNEL,
    locale: str = "en-US",
) -> dict[str, Any]:
    """An `invoke` named `adaptiveCard/action`, as Teams sends a press of `Action.Execute`
    on the bot's card `card_message_id`."""
    return {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": f"f:invoke-{next_activity_id()}",
        "timestamp": "2026-11-25T09:01:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": name, "aadObjectId": user},
        "conversation": {"id": conversation, "conversationType": "channel", "tenantId": tenant},
        "recipient": {"id": BOT_ID, "name": "exportbot"},
        "replyToId": card_message_id,
        "locale": locale,
        "value": {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
        "channelData": {"tenant": {"id": tenant}},
    }
