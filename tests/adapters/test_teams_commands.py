"""Teams over the Agents SDK: a message to the bot runs the grammar and is answered with an
Adaptive Card at the activity's service URL; strangers' tenants are refused; conversation
references are kept for later; the endpoint verifies every activity (G1)."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BOT_KEY, TeamsNotAllowed, check_teams_exposure, create_app
from bot.config import Settings
from tests.adapters.teams_standin import (
    CHANNEL,
    TENANT,
    ConnectorStandIn,
    connector_standin,
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
async def connector() -> AsyncIterator[ConnectorStandIn]:
    async with connector_standin() as standin:
        yield standin


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TestClient]:
    server = TestServer(create_app(_settings(tmp_path)), host="127.0.0.1")
    async with server, TestClient(server) as client:
        yield client


def _card(activity: dict[str, Any]) -> dict[str, Any]:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment["content"]
    return card


def _texts(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


async def test_a_mention_in_a_channel_runs_the_command_and_answers_with_a_card(
    teams: TestClient, connector: ConnectorStandIn, tmp_path: Path
) -> None:
    response = await teams.post(
        "/api/messages", json=message("status demo", service_url=connector.service_url)
    )
    assert response.status in (200, 202)
    [reply] = await connector.wait_for(1)
    card = _card(reply)
    assert card["type"] == "AdaptiveCard" and card["speak"]
    assert "demo" in _texts(card)
    assert reply["replyToId"] == "1700000000001"  # in the thread of the message
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
    teams: TestClient, connector: ConnectorStandIn, tmp_path: Path
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
    teams: TestClient, connector: ConnectorStandIn, tmp_path: Path
) -> None:
    stranger = message(
        "run demo", service_url=connector.service_url, tenant="other-tenant", user="aad-eve"
    )
    await teams.post("/api/messages", json=stranger)
    [reply] = await connector.wait_for(1)
    assert _card(reply)["speak"] == "This bot does not serve the workspace other-tenant."
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)


def _unsigned_token(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    # RS256 with no key id and a made-up signature: issued by nobody Teams trusts.
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.{part({'sig': 'x'})}"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer",
        "Bearer not-a-jwt",
        "Bearer " + _unsigned_token({"aud": "app-id", "iss": "https://evil.example/"}),
    ],
    ids=["missing", "basic", "empty", "malformed", "wrongly-issued"],
)
async def test_with_a_client_id_an_unverified_activity_gets_401_and_does_nothing(
    tmp_path: Path, connector: ConnectorStandIn, authorization: str | None
) -> None:
    settings = _settings(tmp_path, teams_client_id="app-id", teams_tenant_id=TENANT)
    server = TestServer(create_app(settings), host="127.0.0.1")
    headers = {"Authorization": authorization} if authorization else {}
    async with server, TestClient(server) as client:
        response = await client.post(
            "/api/messages",
            json=message("run demo", service_url=connector.service_url),
            headers=headers,
        )
        assert response.status == 401
        assert await response.json() == {"error": "Invalid token or authentication failed."}
    assert connector.sent == []
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT count(*) FROM conversation_references").fetchone() == (0,)


def test_without_a_client_id_teams_may_only_listen_on_loopback(tmp_path: Path) -> None:
    check_teams_exposure(_settings(tmp_path, host="127.0.0.1"))  # fine
    check_teams_exposure(_settings(tmp_path, host="::1"))
    with pytest.raises(TeamsNotAllowed, match="loopback"):
        check_teams_exposure(_settings(tmp_path, host="0.0.0.0"))
    check_teams_exposure(_settings(tmp_path, host="0.0.0.0", teams_client_id="app-id"))


FAILING = ["sh", "-c", "echo 'fatal: refused by the NAS' >&2; exit 2"]


async def test_an_alert_reaches_a_subscribed_channel_after_a_restart(
    tmp_path: Path, connector: ConnectorStandIn
) -> None:
    settings = _settings(
        tmp_path, targets=[{"name": "demo", "kind": "command", "command": FAILING}]
    )
    subscribe = message("subscribe demo failed", service_url=connector.service_url)
    first = TestServer(create_app(settings), host="127.0.0.1")
    async with first, TestClient(first) as client:
        await client.post("/api/messages", json=subscribe)
        [answer] = await connector.wait_for(1)
        assert "receives job failed alerts for demo" in _card(answer)["speak"]
    # A new process: it knows the channel only from the stored conversation reference.
    elsewhere = message(
        "run demo",
        service_url=connector.service_url,
        conversation="19:other0000000000000000000000000@thread.tacv2",
        activity_id="1700000000009",
    )
    second = TestServer(create_app(settings), host="127.0.0.1")
    async with second, TestClient(second) as client:
        await client.post("/api/messages", json=elsewhere)
        async with asyncio.timeout(5):
            while not (alert := _posted_to(connector, CHANNEL)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    card = _card(alert)
    assert card["speak"].startswith("Job #1 of demo failed")
    assert any(a["type"] == "Action.Execute" and a["verb"] == "job.retry" for a in card["actions"])


def _posted_to(connector: ConnectorStandIn, conversation: str) -> dict[str, Any] | None:
    """The first new (not reply) message the bot sent to `conversation`."""
    wanted = f"/v3/conversations/{conversation}/activities"
    return next((body for _, path, body in connector.sent if path == wanted), None)


async def test_a_reply_in_a_jobs_reply_chain_that_mentions_the_bot_annotates_that_job(
    tmp_path: Path, connector: ConnectorStandIn
) -> None:
    quick = {"name": "quick", "kind": "command", "command": ["true"]}
    settings = _settings(tmp_path, targets=[quick])
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as client:
        for n, target in enumerate(("quick", "quick"), start=1):  # jobs #1 and #2
            run = message(
                f"run {target}",
                service_url=connector.service_url,
                activity_id=f"170000000010{n}",
            )
            await client.post("/api/messages", json=run)
            await client.app[BOT_KEY].executor.idle()
        chain = f"{CHANNEL};messageid=1700000000101"  # the reply chain of job #1's command
        note = message(
            "relaunched after host maintenance",
            service_url=connector.service_url,
            conversation=chain,
            user="aad-alice",
            activity_id="1700000000201",
        )
        await client.post("/api/messages", json=note)
    rows = _rows(tmp_path, "SELECT job_id, author, text, link FROM annotations")
    assert len(rows) == 1
    job, author, text, link = rows[0]
    assert (job, text) == (1, "relaunched after host maintenance")  # job #1, not #2
    assert author.endswith("aad-alice")
    assert link.startswith("https://teams.microsoft.com/l/message/")
    assert "parentMessageId=1700000000101" in link
    echoes = [a for a in connector.activities() if "relaunched" in json.dumps(a)]
    assert len(echoes) == 1 and echoes[0]["replyToId"] == "1700000000201"  # in the chain


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
    teams: TestClient, connector: ConnectorStandIn, tmp_path: Path
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
