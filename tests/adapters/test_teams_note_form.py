"""“Add note” on Teams keeps the job's card (issue 13, item 6): the note form opens under the
card (`Action.ShowCard`, drawn by the client, replacing nothing), and a submitted note redraws
the job's card with the note on it. A press of an older card's `Action.Execute` gets the form
as a card of its own, so nothing is replaced there either."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import BOT_KEY
from tests.adapters.teams_harness import ALICE, QUICK_TARGET, teams_client, teams_settings
from tests.adapters.teams_standin import ConnectorStandIn, card_action, message

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with teams_client(teams_settings(tmp_path, targets=[QUICK_TARGET])) as client:
        yield client


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "bot.db") as db:
        return db.execute(sql).fetchall()


async def _job_card(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn
) -> tuple[str, dict[str, Any]]:
    """`run demo` in the channel: the id the connector gave the job's card, and the card."""
    run = message("run demo", service_url=connector.service_url, activity_id="1700000000401")
    assert (await teams.post("/api/messages", json=run)).status in (200, 202)
    await teams.app[BOT_KEY].executor.idle()
    # The job's end is told (its card redrawn, its chain told, its requester told in a chat
    # the bot opens) before anything is pressed, so what follows is the press's doing.
    async with asyncio.timeout(5):
        while not _told_privately(connector):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    [card_post] = [
        (answered, body)
        for (verb, _, body), answered in zip(connector.sent, connector.answered, strict=True)
        if verb == "POST" and body.get("attachments")
    ][:1]
    return card_post[0], card_post[1]["attachments"][0]["content"]


def _told_privately(connector: ConnectorStandIn) -> bool:
    return any(
        verb == "POST" and "1on1" in path and body.get("attachments")
        for verb, path, body in connector.sent
    )


async def _invoke(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    verb: str,
    data: dict[str, Any],
    on: str,
) -> dict[str, Any]:
    press = card_action(
        verb,
        data,
        service_url=connector.service_url,
        user=ALICE,
        name="Alice Admin",
        card_message_id=on,
    )
    response = await teams.post("/api/messages", json=press)
    assert response.status == 200  # an invoke is answered in the HTTP response
    body: dict[str, Any] = await response.json()
    return body


def _show_card(card: dict[str, Any]) -> dict[str, Any]:
    [note] = [a for a in card["actions"] if a["title"] == "Add note"]
    assert note["type"] == "Action.ShowCard"  # opens under the card; the card stays
    form: dict[str, Any] = note["card"]
    return form


async def test_add_note_opens_the_form_under_the_job_card_and_a_note_redraws_that_card(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    card_id, card = await _job_card(teams, connector)
    form = _show_card(card)
    inputs = [b for b in form["body"] if b["type"].startswith("Input.")]
    assert [(i["id"], bool(i["label"])) for i in inputs] == [("text", True), ("kind", True)]
    [submit] = form["actions"]
    assert submit["type"] == "Action.Execute" and submit["verb"] == "form.submit"
    assert submit["data"]["form"] == "note" and submit["data"]["context"] == "1"

    # Teams merges the typed values into the pressed action's data.
    typed = {**submit["data"], "text": "NAS rebooted at 02:10", "kind": "note"}
    before = len(connector.sent)
    saved = await _invoke(teams, connector, "form.submit", typed, card_id)
    assert _rows(tmp_path, "SELECT job_id, text FROM annotations") == [(1, "NAS rebooted at 02:10")]
    assert saved["type"] == CARD_TYPE
    redrawn = saved["value"]
    assert card["body"][0]["text"].startswith("Job #1 · demo")
    assert redrawn["body"][0]["text"] == "Job #1 · demo"  # still the job's card
    assert "NAS rebooted at 02:10" in str(redrawn["body"])  # with the note on it
    assert _show_card(redrawn)["actions"] == [submit]  # and the form closed, ready again
    # Everyone in the channel sees the note on the card, not only the presser.
    [(_, path, update)] = [s for s in connector.sent[before:] if s[0] == "PUT"]
    assert path.endswith(f"/activities/{card_id}")
    assert update["attachments"][0]["content"] == redrawn


async def test_a_note_refused_by_the_core_is_told_to_the_presser_and_the_card_stays(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    card_id, card = await _job_card(teams, connector)
    [submit] = _show_card(card)["actions"]
    before = len(connector.sent)
    empty = {**submit["data"], "text": "   ", "kind": "note"}
    answer = await _invoke(teams, connector, "form.submit", empty, card_id)
    assert answer["type"] == MESSAGE_TYPE  # said to the presser; the card is not replaced
    assert "note" in answer["value"].lower()
    assert _rows(tmp_path, "SELECT count(*) FROM annotations") == [(0,)]
    assert connector.sent[before:] == []


async def test_an_older_cards_add_note_button_sends_the_form_as_its_own_card(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    card_id, _ = await _job_card(teams, connector)
    before = len(connector.sent)
    answer = await _invoke(teams, connector, "job.note", {"object": "1", "version": 0}, card_id)
    assert answer["type"] == MESSAGE_TYPE  # the pressed card is left as it was
    [(verb, _, sent)] = connector.sent[before:]
    assert verb == "POST"  # a new message: the form, beside the job's card
    form = sent["attachments"][0]["content"]
    [submit] = [a for a in form["actions"] if a["verb"] == "form.submit"]
    typed = {**submit["data"], "text": "checked by hand", "kind": "note"}
    saved = await _invoke(teams, connector, "form.submit", typed, "1700000000999")
    assert saved["type"] == CARD_TYPE  # the form's own card becomes the outcome
    assert _rows(tmp_path, "SELECT text FROM annotations") == [("checked by hand",)]


async def test_a_note_from_under_another_card_leaves_that_card_and_tells_the_presser(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    """An alert's card offers "Add note" too: it is not the job's card, so it is not redrawn
    as one; the presser is told the note was added."""
    card_id, card = await _job_card(teams, connector)
    [submit] = _show_card(card)["actions"]
    before = len(connector.sent)
    typed = {**submit["data"], "text": "seen on the alert", "kind": "note"}
    alert_id = "1700000000777"  # a message the bot posted that is not job #1's card
    assert alert_id != card_id
    answer = await _invoke(teams, connector, "form.submit", typed, alert_id)
    assert answer["type"] == MESSAGE_TYPE and "#1" in answer["value"]
    assert _rows(tmp_path, "SELECT text FROM annotations") == [("seen on the alert",)]
    assert connector.sent[before:] == []  # nothing redrawn, nothing replaced
