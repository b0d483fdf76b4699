"""Teams over the Agents SDK: a message to the bot runs the grammar and is answered with an
Adaptive Card at the activity's service URL; strangers' tenants are refused; conversation
references are kept for later; the endpoint verifies every activity (G1)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BOT_KEY, TEAMS_KEY, TeamsNotAllowed, check_teams_exposure, create_app
from bot.config import Settings
from core.delivery.senders import DeliveryError, RetryAfter
from core.views.message import Message
from tests.adapters.bot_harness import configured_people_have_seen_the_tour
from tests.adapters.teams_standin import (
    CHANNEL,
    TENANT,
    ConnectorStandIn,
    message,
)

ADMIN = f"teams:{TENANT}:aad-alice"


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[ADMIN],
        scheduler=False,
        **extra,
    )


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    server = TestServer(create_app(_settings(tmp_path)), host="127.0.0.1")
    async with server, TestClient(server) as client:
        await configured_people_have_seen_the_tour(client.app[BOT_KEY])
        yield client


def _card(activity: dict[str, Any]) -> dict[str, Any]:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment["content"]
    return card


def _shown_facts(card: dict[str, Any]) -> dict[str, str]:
    """Label → value of a card's facts: in FactSets, or (a long value) as a bold label
    TextBlock followed by its value's TextBlock."""
    facts: dict[str, str] = {}
    body = card["body"]
    for block, after in zip(body, [*body[1:], {}], strict=True):
        if block["type"] == "FactSet":
            facts.update((f["title"], f["value"]) for f in block["facts"])
        elif block.get("weight") == "bolder" and after.get("spacing") == "none":
            facts[block["text"]] = after["text"]
    return facts


def _texts(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


async def test_a_mention_in_a_channel_runs_the_command_and_answers_with_a_card(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    sent = message("status demo", service_url=connector.service_url)
    response = await teams.post("/api/messages", json=sent)
    assert response.status in (200, 202)
    [reply] = await connector.wait_for(1)
    card = _card(reply)
    assert card["type"] == "AdaptiveCard" and card["speak"]
    assert "demo" in _texts(card)
    assert reply["replyToId"] == sent["id"]  # in the thread of the message
    [(_, path, _)] = connector.sent
    assert path.startswith("/v3/conversations/19:ops")
    # The conversation is remembered, for alerts and job endings later.
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute(
            "SELECT platform, workspace, key FROM conversation_references ORDER BY key"
        ).fetchall()
    assert rows == [
        ("teams", TENANT, "19:ops0000000000000000000000000000@thread.tacv2"),
        ("teams", TENANT, "member:aad-alice"),  # enough to open a 1:1 chat later (C3)
    ]


async def test_export_in_front_and_a_personal_chat_work_the_same(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    personal = message(
        "export help run",
        service_url=connector.service_url,
        conversation="a:1personal-chat-id",
        conversation_type="personal",
        mention=False,
    )
    await teams.post("/api/messages", json=personal)
    [reply] = await connector.wait_for(1)
    assert "run" in _texts(_card(reply))
    with sqlite3.connect(tmp_path / "bot.db") as db:
        keys = {k for (k,) in db.execute("SELECT key FROM conversation_references")}
    assert keys == {"a:1personal-chat-id", "user:aad-alice", "member:aad-alice"}


async def test_a_tenant_that_is_not_configured_is_refused(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    stranger = message(
        "run demo", service_url=connector.service_url, tenant="other-tenant", user="aad-eve"
    )
    await teams.post("/api/messages", json=stranger)
    [reply] = await connector.wait_for(1)
    assert _card(reply)["speak"] == "This bot does not serve the workspace other-tenant."
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)


def test_without_a_client_id_teams_may_only_listen_on_loopback(tmp_path: Path) -> None:
    check_teams_exposure(_settings(tmp_path, host="127.0.0.1"))  # fine
    check_teams_exposure(_settings(tmp_path, host="::1"))
    with pytest.raises(TeamsNotAllowed, match="loopback"):
        check_teams_exposure(_settings(tmp_path, host="0.0.0.0"))
    check_teams_exposure(_settings(tmp_path, host="0.0.0.0", teams_client_id="app-id"))


FAILING = ["sh", "-c", "echo 'fatal: refused by the NAS' >&2; exit 2"]


def _posted_to(connector: ConnectorStandIn, conversation: str) -> dict[str, Any] | None:
    """The first new (not reply) message the bot sent to `conversation`."""
    wanted = f"/v3/conversations/{conversation}/activities"
    return next((body for _, path, body in connector.sent if path == wanted), None)


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "bot.db") as db:
        return db.execute(sql).fetchall()


async def test_a_jobs_card_is_redrawn_when_it_ends_and_its_chain_told(
    tmp_path: Path, connector: ConnectorStandIn
) -> None:
    quick = {"name": "quick", "kind": "command", "command": ["true"]}
    server = TestServer(create_app(_settings(tmp_path, targets=[quick])), host="127.0.0.1")
    async with server, TestClient(server) as client:
        run = message("run quick", service_url=connector.service_url, activity_id="1700000000301")
        await client.post("/api/messages", json=run)
        await client.app[BOT_KEY].executor.idle()
        async with asyncio.timeout(5):
            while not [s for s in connector.sent if s[0] == "PUT"]:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            while not _posted_to(connector, f"{CHANNEL};messageid=1700000000301"):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    [(card_id,)] = _rows(tmp_path, "SELECT message_id FROM posted_messages WHERE kind = 'job'")
    [(_, path, redrawn)] = [s for s in connector.sent if s[0] == "PUT"]
    assert path.endswith(f"/activities/{card_id}")
    assert "succeeded" in _card(redrawn)["speak"]
    told = _posted_to(connector, f"{CHANNEL};messageid=1700000000301")
    assert told is not None and "succeeded" in _card(told)["speak"]


async def test_being_added_to_a_team_is_enough_to_post_there_later(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    added = message("", service_url=connector.service_url, mention=False)
    added.update(
        type="conversationUpdate",
        text=None,
        membersAdded=[{"id": "28:exportbot-bot-id"}],
        channelData={"tenant": {"id": TENANT}, "eventType": "teamMemberAdded"},
    )
    response = await teams.post("/api/messages", json=added)
    assert response.status in (200, 202)
    keys = _rows(tmp_path, "SELECT key FROM conversation_references WHERE key NOT LIKE 'member:%'")
    assert keys == [(CHANNEL,)]
    assert connector.sent == []  # nothing said: no welcome spam in a team channel


async def test_the_requester_is_told_privately_in_a_chat_the_bot_opens(
    tmp_path: Path, connector: ConnectorStandIn
) -> None:
    demo = {"name": "demo", "kind": "command", "command": FAILING}
    server = TestServer(create_app(_settings(tmp_path, targets=[demo])), host="127.0.0.1")
    async with server, TestClient(server) as client:
        run = message("run demo", service_url=connector.service_url)
        await client.post("/api/messages", json=run)
        async with asyncio.timeout(5):
            while not (dm := _private(connector)):  # noqa: ASYNC110 - the dispatcher sends
                await asyncio.sleep(0.05)
    [(_, _, opened)] = [s for s in connector.sent if s[1] == "/v3/conversations"]
    assert opened["isGroup"] is False and opened["tenantId"] == TENANT
    assert [m["aadObjectId"] for m in opened["members"]] == ["aad-alice"]
    assert _card(dm)["speak"].startswith("Job #1 of demo failed")
    assert ("user:aad-alice",) in _rows(tmp_path, "SELECT key FROM conversation_references")


def _private(connector: ConnectorStandIn) -> dict[str, Any] | None:
    """The first message sent into a 1:1 chat the bot opened."""
    return next(
        (b for _, p, b in connector.sent if p.startswith("/v3/conversations/a:1on1-")), None
    )


@pytest.mark.parametrize(
    ("status", "retry_after", "permanent"),
    [
        (429, 1.0, False),  # throttled: wait as told
        (412, None, False),  # precondition failed: Teams asks for a retry
        (502, None, False),
        (504, None, False),
        (403, None, True),  # the bot was removed: no retry will fix it
        (404, None, True),
    ],
)
async def test_the_teams_sender_turns_connector_failures_into_what_the_dispatcher_honours(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    status: int,
    retry_after: float | None,
    permanent: bool,
) -> None:
    await teams.post("/api/messages", json=message("help", service_url=connector.service_url))
    await connector.wait_for(1)  # the channel's reference is stored now
    sender = teams.app[TEAMS_KEY].sender(TENANT)
    connector.failures.append((CHANNEL, status))
    with pytest.raises(DeliveryError) as failed:
        await sender.post(CHANNEL, Message(title="Job #7 · demo", status="failed"))
    assert failed.value.permanent is permanent
    if retry_after is not None:
        assert isinstance(failed.value, RetryAfter) and failed.value.seconds == retry_after
    assert connector.refused == [("POST", f"/v3/conversations/{CHANNEL}/activities", status)]
    again = await sender.post(CHANNEL, Message(title="Job #7 · demo", status="failed"))
    assert again.message_id  # the next attempt goes through


async def test_an_alert_refused_with_412_is_retried_with_backoff_and_arrives_once(
    tmp_path: Path, connector: ConnectorStandIn
) -> None:
    settings = _settings(
        tmp_path, targets=[{"name": "demo", "kind": "command", "command": FAILING}]
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as client:
        await client.post(
            "/api/messages",
            json=message("subscribe demo failed", service_url=connector.service_url),
        )
        await connector.wait_for(1)
        top_level = f"/v3/conversations/{CHANNEL}/activities"
        connector.failures.append((top_level, 412))
        run = message(
            "run demo", service_url=connector.service_url, conversation="a:1personal-chat-id"
        )
        run["conversation"]["conversationType"] = "personal"
        await client.post("/api/messages", json=run)
        async with asyncio.timeout(10):
            while not (alerts := [p for v, p, _ in connector.sent if p == top_level]):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    assert connector.refused == [("POST", top_level, 412)]
    assert len(alerts) == 1
    assert _rows(tmp_path, "SELECT channel, state, attempts FROM deliveries WHERE private = 0") == [
        (CHANNEL, "sent", 1)
    ]


async def test_a_replayed_activity_notes_once(tmp_path: Path, connector: ConnectorStandIn) -> None:
    quick = {"name": "quick", "kind": "command", "command": ["true"]}
    server = TestServer(create_app(_settings(tmp_path, targets=[quick])), host="127.0.0.1")
    async with server, TestClient(server) as client:
        await client.post(
            "/api/messages", json=message("run quick", service_url=connector.service_url)
        )
        await client.app[BOT_KEY].executor.idle()
        note = message('annotate #1 "host rebooted"', service_url=connector.service_url)
        for _ in range(2):  # the same activity (the same id) delivered again
            response = await client.post("/api/messages", json=note)
            assert response.status in (200, 202)
        replies = await connector.wait_for(3)
    assert _rows(tmp_path, "SELECT count(*) FROM annotations") == [(1,)]
    assert "already done" in _texts(_card(replies[-1])).lower()


@pytest.mark.parametrize(
    ("place", "started_by"),
    [
        ({"channel_name": "Ops"}, "Alice Admin on Microsoft Teams, in Ops"),
        ({}, "Alice Admin on Microsoft Teams"),  # a team's General channel: no name given
        (
            {
                "conversation": "19:chat0000@thread.v2",
                "conversation_type": "groupChat",
                "conversation_name": "Release crew",
            },
            "Alice Admin on Microsoft Teams, in Release crew",
        ),
        (
            {"conversation": "a:1on1-alice", "conversation_type": "personal", "mention": False},
            "Alice Admin on Microsoft Teams",
        ),
    ],
)
async def test_a_job_names_the_channel_or_chat_it_was_started_in_never_its_id(
    tmp_path: Path, connector: ConnectorStandIn, place: dict[str, Any], started_by: str
) -> None:
    quick = {"name": "quick", "kind": "command", "command": ["true"]}
    server = TestServer(create_app(_settings(tmp_path, targets=[quick])), host="127.0.0.1")
    async with server, TestClient(server) as client:
        run = message("run quick", service_url=connector.service_url, **place)
        await client.post("/api/messages", json=run)
        [answer] = (await connector.wait_for(1))[:1]
        await client.app[BOT_KEY].executor.idle()
        await _until_its_end_is_told(connector)
    assert _shown_facts(_card(answer))["Started by"] == started_by
    # No conversation id: the one the job came from, nor any Teams thread id (`19:…@thread…`).
    # (Not the bare "19:" prefix: a card's start time is 19:xx for one hour of every day.)
    conversation = str(place.get("conversation", CHANNEL))
    assert conversation not in _texts(_card(answer)) and "@thread" not in _texts(_card(answer))
    assert "1on1" not in _texts(_card(answer))


@pytest.mark.parametrize(
    ("place", "told_privately"),
    [
        ({"conversation": "a:1on1-alice", "conversation_type": "personal", "mention": False}, 0),
        ({"channel_name": "Ops"}, 1),
    ],
)
async def test_the_requester_is_told_privately_only_of_a_job_started_elsewhere(
    tmp_path: Path, connector: ConnectorStandIn, place: dict[str, Any], told_privately: int
) -> None:
    """C3 tells the requester in their personal chat; a job started there already ends there
    (the Agents Playground showed the job-ended reply and the alert one under the other)."""
    quick = {"name": "quick", "kind": "command", "command": ["true"]}
    server = TestServer(create_app(_settings(tmp_path, targets=[quick])), host="127.0.0.1")
    async with server, TestClient(server) as client:
        run = message("run quick", service_url=connector.service_url, **place)
        await client.post("/api/messages", json=run)
        await client.app[BOT_KEY].executor.idle()
        await _until_its_end_is_told(connector)
        async with asyncio.timeout(10):
            while not _all_fanned_out(tmp_path):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    private = "SELECT count(*) FROM deliveries WHERE private = 1"
    assert _rows(tmp_path, private) == [(told_privately,)]


def _all_fanned_out(tmp_path: Path) -> bool:
    """The outbox holds events, and the dispatcher has turned each into its deliveries."""
    pending = _rows(tmp_path, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
    return bool(_rows(tmp_path, "SELECT id FROM outbox")) and pending == [(0,)]


async def _until_its_end_is_told(connector: ConnectorStandIn) -> None:
    """The job's card redrawn and its ending said: the turn that ran it has done its last
    database read, so closing the app leaves no connection behind."""
    async with asyncio.timeout(10):
        while not [s for s in connector.sent if s[0] == "PUT"] or len(connector.activities()) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
