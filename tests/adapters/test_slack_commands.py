"""`/export` over HTTP: signed requests, fast acks, answers through response_url (A1, G1)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BOT_KEY, SLACK_KEY, create_app
from bot.config import Settings
from tests.adapters.slack_standin import (
    TEAM,
    SlackStandIn,
    block_actions,
    signed,
    slack_standin,
    slash_command,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN = "U0ADMIN"
REVIEWER = "U0CAROL"


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    async with slack_standin() as running:
        yield running


@pytest.fixture
async def client(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"slack:{TEAM}:{ADMIN}"],
        grants=[{"principal": f"slack:{TEAM}:{REVIEWER}", "role": "reviewer"}],  # type: ignore[list-item]
        slack_signing_secret=SECRET,  # type: ignore[arg-type]
        slack_bot_token="xoxb-test",  # type: ignore[arg-type]
        slack_api_url=standin.api_url,
        scheduler=False,
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as test_client:
        yield test_client


async def _post(client: TestClient, body: str, **kw: int) -> tuple[int, dict | str]:
    response = await client.post("/slack/events", data=body, headers=signed(SECRET, body, **kw))
    payload = (
        await response.json()
        if response.content_type == "application/json"
        else (await response.text())
    )
    return response.status, payload


async def test_help_is_answered_in_the_ack_with_a_text_fallback(
    client: TestClient, standin: SlackStandIn
) -> None:
    body = slash_command("help", user=ADMIN, response_url=standin.response_url())
    started = time.perf_counter()
    status, payload = await _post(client, body)
    assert time.perf_counter() - started < 3
    assert status == 200 and isinstance(payload, dict)
    assert payload["response_type"] == "ephemeral"
    assert "/export run <target>" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"
    # Only identity checks reached the Web API: the answer itself went back in the ack.
    assert {method for method, _ in standin.calls} == {"auth.test"}


async def test_a_run_is_shown_to_the_channel(client: TestClient, standin: SlackStandIn) -> None:
    body = slash_command("run demo", user=ADMIN, response_url=standin.response_url())
    status, payload = await _post(client, body)
    assert status == 200 and isinstance(payload, dict)
    assert payload["response_type"] == "in_channel"
    assert payload["text"].startswith("Job #1 · demo started — queued")
    await client.server.app[BOT_KEY].executor.idle()


async def test_a_slow_answer_goes_through_the_response_url(
    client: TestClient, standin: SlackStandIn
) -> None:
    client.server.app[SLACK_KEY]._ack_budget = 0.0  # every answer is "slow"
    body = slash_command("status", user=ADMIN, response_url=standin.response_url("r7"))
    status, payload = await _post(client, body)
    assert status == 200 and isinstance(payload, dict)
    assert payload == {"text": "Working on it…", "response_type": "ephemeral"}
    async with asyncio.timeout(5):
        await standin.responded.wait()
    [answer] = standin.responses
    assert answer["text"].startswith("Export status")
    assert answer["replace_original"] is True


async def test_another_workspace_is_refused_and_audited(
    client: TestClient, standin: SlackStandIn, tmp_path: Path
) -> None:
    body = slash_command("status", user=ADMIN, team="T0OTHER", response_url=standin.response_url())
    status, payload = await _post(client, body)
    assert status == 200 and isinstance(payload, dict)
    assert "This bot does not serve the workspace T0OTHER." in payload["text"]
    assert "/export help" in payload["text"]
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute("SELECT actor, outcome FROM audit_log").fetchall()
    assert rows == [("slack:T0OTHER:U0ADMIN", "refused")]


@pytest.mark.parametrize("how", ["bad signature", "stale timestamp"])
async def test_unverified_requests_get_401_and_change_nothing(
    client: TestClient, standin: SlackStandIn, tmp_path: Path, how: str
) -> None:
    body = slash_command("run demo", user=ADMIN, response_url=standin.response_url())
    if how == "bad signature":
        headers = signed("not-the-secret", body)
    else:
        headers = signed(SECRET, body, timestamp=int(time.time()) - 6 * 60)
    response = await client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM audit_log").fetchone() == (0,)


async def _press(
    client: TestClient, standin: SlackStandIn, action: str, value: str, user: str
) -> dict:
    before = len(standin.responses)
    body = block_actions(action, value, user=user, response_url=standin.response_url("b"))
    response = await client.post("/slack/events", data=body, headers=signed(SECRET, body))
    assert response.status == 200
    async with asyncio.timeout(5):
        while len(standin.responses) == before:
            standin.responded.clear()
            await standin.responded.wait()
    return standin.responses[-1]


async def test_draft_buttons_refuse_the_author_and_stale_versions_then_approve(
    client: TestClient, standin: SlackStandIn
) -> None:
    for text in ('schedule draft demo --cron "0 2 * * *" --tz UTC --keep 5', "schedule submit #1"):
        await _post(client, slash_command(text, user=ADMIN, response_url=standin.response_url()))
    _, listed = await _post(
        client, slash_command("schedule drafts", user=REVIEWER, response_url="")
    )
    assert isinstance(listed, dict) and "awaiting review" in listed["text"]

    own = await _press(client, standin, "draft.approve", "1:1", ADMIN)
    assert own["response_type"] == "ephemeral" and own["replace_original"] is False
    assert "someone else must review it (four eyes)" in own["text"]

    # The author edits the draft: buttons drawn for version 1 are now stale.
    edit = 'schedule draft demo --cron "30 2 * * *" --tz UTC --keep 5'
    await _post(client, slash_command(edit, user=ADMIN, response_url=standin.response_url()))
    stale = await _press(client, standin, "draft.approve", "1:1", REVIEWER)
    assert stale["replace_original"] is False
    assert "changed since you saw it (version 1, now 2)" in stale["text"]

    approved = await _press(client, standin, "draft.approve", "1:2", REVIEWER)
    assert approved["replace_original"] is True and approved["response_type"] == "in_channel"
    assert "approved and active" in approved["text"]
    assert "Approved by u0carol at" in approved["text"]
    assert not [b for b in approved["blocks"] if b["type"] == "actions"]  # buttons gone
