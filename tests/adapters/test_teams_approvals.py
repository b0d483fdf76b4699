"""Draft approvals by Adaptive Card (Universal Actions): the core decides; a refusal (the
author, a stale version) answers the presser only and leaves the card; an accepted decision
redraws the card for everyone and answers the invoke with the new card."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BOT_KEY, create_app
from bot.config import Settings
from tests.adapters.teams_standin import (
    TENANT,
    ConnectorStandIn,
    card_action,
    connector_standin,
    message,
)

ALICE = "aad-alice"  # admin, the drafts' author
CAROL = "aad-carol"  # reviewer


@pytest.fixture
async def connector() -> AsyncIterator[ConnectorStandIn]:
    async with connector_standin() as standin:
        yield standin


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"teams:{TENANT}:{ALICE}"],
        grants=[{"principal": f"teams:{TENANT}:{CAROL}", "role": "reviewer"}],  # type: ignore[list-item]
        targets=[{"name": "demo", "kind": "command", "command": ["true"]}],  # type: ignore[list-item]
        scheduler=False,
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as client:
        yield client


async def _say(teams: TestClient, connector: ConnectorStandIn, text: str, n: int) -> None:
    activity = message(text, service_url=connector.service_url, activity_id=f"17000000001{n:02d}")
    response = await teams.post("/api/messages", json=activity)
    assert response.status in (200, 202)


async def _press(
    teams: TestClient, connector: ConnectorStandIn, version: int, user: str, name: str
) -> dict[str, Any]:
    invoke = card_action(
        "draft.approve",
        {"object": "1", "version": version},
        service_url=connector.service_url,
        user=user,
        name=name,
    )
    response = await teams.post("/api/messages", json=invoke)
    assert response.status == 200  # an invoke is answered in the HTTP response
    body: dict[str, Any] = await response.json()
    return body


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "bot.db") as db:
        return db.execute(sql).fetchall()


async def test_a_malformed_press_is_answered_not_crashed(
    teams: TestClient, connector: ConnectorStandIn
) -> None:
    invoke = card_action(
        "draft.approve", {}, service_url=connector.service_url, user=CAROL, name="Carol"
    )
    invoke["value"] = {"action": {"type": "Action.Submit"}}
    response = await teams.post("/api/messages", json=invoke)
    assert response.status == 200
    body = await response.json()
    assert "no longer does anything" in body["value"]


async def _invoke(
    teams: TestClient, connector: ConnectorStandIn, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    press = card_action(
        verb, data, service_url=connector.service_url, user=ALICE, name="Alice Admin"
    )
    response = await teams.post("/api/messages", json=press)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_add_note_opens_a_form_card_that_shows_errors_then_saves_the_note(
    teams: TestClient, connector: ConnectorStandIn, tmp_path: Path
) -> None:
    await _say(teams, connector, "run demo", 1)
    await teams.app[BOT_KEY].executor.idle()

    form = await _invoke(teams, connector, "job.note", {"object": "1", "version": 0})
    card = form["value"]
    inputs = [b for b in card["body"] if b["type"].startswith("Input.")]
    assert [(i["id"], bool(i["label"])) for i in inputs] == [("text", True), ("kind", True)]
    [submit] = [a for a in card["actions"] if a["type"] == "Action.Execute"]
    assert submit["verb"] == "form.submit" and submit["data"] == {"form": "note", "context": "1"}

    empty = await _invoke(
        teams, connector, "form.submit", {**submit["data"], "text": "  ", "kind": "note"}
    )
    again = empty["value"]
    assert any(b.get("color") == "attention" for b in again["body"])  # the error, in words
    assert _rows(tmp_path, "SELECT count(*) FROM annotations") == [(0,)]

    saved = await _invoke(
        teams,
        connector,
        "form.submit",
        {**submit["data"], "text": "NAS rebooted at 02:10", "kind": "note"},
    )
    assert saved["type"] == "application/vnd.microsoft.card.adaptive"
    assert _rows(tmp_path, "SELECT job_id, text FROM annotations") == [(1, "NAS rebooted at 02:10")]
