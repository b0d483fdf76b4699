"""Draft approvals by Adaptive Card (Universal Actions): the core decides; a refusal (the
author, a stale version) answers the presser only and leaves the card; an accepted decision
redraws the card for everyone and answers the invoke with the new card."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import BOT_KEY
from tests.adapters.teams_harness import ALICE, QUICK_TARGET, teams_client, teams_settings
from tests.adapters.teams_standin import (
    TENANT,
    ConnectorStandIn,
    card_action,
    message,
)

CAROL = "aad-carol"  # reviewer


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    reviewer = {"principal": f"teams:{TENANT}:{CAROL}", "role": "reviewer"}
    settings = teams_settings(tmp_path, grants=[reviewer], targets=[QUICK_TARGET])
    async with teams_client(settings) as client:
        yield client


async def _say(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, text: str, n: int
) -> None:
    activity = message(text, service_url=connector.service_url, activity_id=f"17000000001{n:02d}")
    response = await teams.post("/api/messages", json=activity)
    assert response.status in (200, 202)


async def _press(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    version: int,
    user: str,
    name: str,
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
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn
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
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    verb: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    press = card_action(
        verb, data, service_url=connector.service_url, user=ALICE, name="Alice Admin"
    )
    response = await teams.post("/api/messages", json=press)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def _form_sent(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    verb: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """Press a button that opens a form: the pressed card stays, the form comes on its own."""
    before = len(connector.activities())
    pressed = await _invoke(teams, connector, verb, data)
    assert pressed["type"] == "application/vnd.microsoft.activity.message"
    # The job's ended reply may still be on its way: the form is the new card with inputs.
    while True:
        new = connector.activities()[before:]
        forms = [card for card in map(_card_of, new) if '"Input.' in json.dumps(card)]
        if forms:
            [card] = forms
            return card
        await connector.wait_for(len(connector.activities()) + 1)


def _card_of(activity: dict[str, Any]) -> dict[str, Any]:
    attachments = activity.get("attachments") or [{}]
    return dict(attachments[0].get("content") or {})


async def test_add_note_opens_a_form_card_that_shows_errors_then_saves_the_note(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    await _say(teams, connector, "run demo", 1)
    await teams.app[BOT_KEY].executor.idle()

    card = await _form_sent(teams, connector, "job.note", {"object": "1", "version": 0})
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


async def test_a_reviewer_comments_a_decision_in_the_labelled_input_beside_the_buttons(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    await _say(teams, connector, 'schedule draft demo --cron "0 2 * * *" --tz UTC --keep 5', 1)
    await _say(teams, connector, "schedule submit #1", 2)
    [*_, review] = await connector.wait_for(2)
    card = review["attachments"][0]["content"]
    [comment] = [b for b in card["body"] if b.get("id") == "comment"]
    assert comment["type"] == "Input.Text" and comment["label"].startswith("Comment")
    assert comment["maxLength"] == 500
    kinds = [b["type"] for b in card["body"]]
    assert kinds.index("FactSet") < card["body"].index(comment)  # read after what is decided
    [(version,)] = _rows(tmp_path, "SELECT version FROM drafts")

    too_long = "x" * 501
    refused = await _press_with(teams, connector, "draft.changes", version, too_long)
    assert refused["type"] == "application/vnd.microsoft.activity.message"
    assert "at most 500 characters; this one has 501" in refused["value"]
    assert _rows(tmp_path, "SELECT state FROM drafts") == [("submitted",)]

    asked = await _press_with(teams, connector, "draft.changes", version, "  keep 7, not 5 ")
    assert asked["type"] == "application/vnd.microsoft.card.adaptive"
    assert "keep 7, not 5" in json.dumps(asked["value"])  # the comment shows on the draft
    assert _rows(tmp_path, "SELECT state FROM drafts") == [("changes_requested",)]


async def _press_with(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    verb: str,
    version: int,
    comment: str,
) -> dict[str, Any]:
    # Teams adds the card's typed inputs to the pressed action's data.
    data = {"object": "1", "version": version, "comment": comment}
    press = card_action(verb, data, service_url=connector.service_url, user=CAROL, name="Carol")
    response = await teams.post("/api/messages", json=press)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_new_draft_from_the_drafts_list_opens_a_form_that_shows_errors_then_saves(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    await _say(teams, connector, "schedule drafts", 1)
    [listing] = await connector.wait_for(1)
    actions = listing["attachments"][0]["content"]["actions"]
    [new] = [a for a in actions if a["type"] == "Action.Execute"]
    assert (new["verb"], new["title"]) == ("draft.new", "New schedule draft")

    form = await _form_sent(teams, connector, new["verb"], new["data"])
    inputs = [b for b in form["body"] if b["type"].startswith("Input.")]
    assert [i["id"] for i in inputs] == ["target", "cron", "timezone", "keep", "exclude"]
    assert all(i["label"] for i in inputs)
    [submit] = [a for a in form["actions"] if a["type"] == "Action.Execute"]

    typed = {"target": "demo", "cron": "every night", "timezone": "UTC", "keep": "5"}
    bad = (await _invoke(teams, connector, submit["verb"], {**submit["data"], **typed}))["value"]
    [cron] = [b for b in bad["body"] if b.get("id") == "cron"]
    assert "not a cron expression" in cron["errorMessage"] and cron["value"] == "every night"
    assert _rows(tmp_path, "SELECT count(*) FROM drafts") == [(0,)]

    typed["cron"] = "0 3 * * *"
    saved = await _invoke(teams, connector, submit["verb"], {**submit["data"], **typed})
    assert "Schedule draft #1 for demo" in saved["value"]["speak"]
    assert _rows(tmp_path, "SELECT target, cron, author FROM drafts") == [
        ("demo", "0 3 * * *", f"teams:{TENANT}:{ALICE}")
    ]
