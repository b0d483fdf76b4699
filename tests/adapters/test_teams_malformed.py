"""Teams' door (G1): an activity of the wrong shape is a 400 that changes nothing; a forged
`Action.Execute` is refused to the presser and audited; a turn that fails says so in a short
sentence from the catalog, never with the exception's text."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BOT_KEY, create_app
from bot.bootstrap import Bot
from bot.config import Settings
from tests.adapters.teams_standin import TENANT, ConnectorStandIn, card_action, message

ADMIN = f"teams:{TENANT}:aad-alice"
QUICK = {"name": "quick", "kind": "command", "command": ["true"]}
TABLES = ("audit_log", "jobs", "annotations", "conversation_references", "posted_messages")


class Teams:
    def __init__(
        self,
        client: TestClient[web.Request, web.Application],
        db: Path,
        connector: ConnectorStandIn,
    ) -> None:
        self.client = client
        self.db = db
        self.connector = connector

    async def post(self, body: Any) -> tuple[int, str]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = await self.client.post(
            "/api/messages", data=data, headers={"Content-Type": "application/json"}
        )
        return response.status, await response.text()

    @property
    def bot(self) -> Bot:
        return self.client.app[BOT_KEY]

    async def settle(self) -> None:
        await self.bot.executor.idle()
        await self.bot.audit_writer.flush()

    def counts(self) -> dict[str, int]:
        with sqlite3.connect(self.db) as db:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
async def teams(tmp_path: Path, connector: ConnectorStandIn) -> AsyncIterator[Teams]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[ADMIN],
        targets=[QUICK],  # type: ignore[list-item]
        scheduler=False,
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as client:
        yield Teams(client, tmp_path / "bot.db", connector)


def _message(connector: ConnectorStandIn, text: str = "status") -> dict[str, Any]:
    return message(text, service_url=connector.service_url)


def _changed(path: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(activity: dict[str, Any]) -> dict[str, Any]:
        node = activity
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        if value is _MISSING:
            del node[last]
        else:
            node[last] = value
        return activity

    return change


_MISSING = object()

MALFORMED: dict[str, Callable[[ConnectorStandIn], Any]] = {
    "an array": lambda c: [_message(c)],
    "null": lambda c: None,
    "a number": lambda c: 1,
    "a string": lambda c: "message",
    "not JSON": lambda c: b"{not json",
    "without type": lambda c: _changed("type", _MISSING)(_message(c)),
    "type a number": lambda c: _changed("type", 1)(_message(c)),
    "from a string": lambda c: _changed("from", "x")(_message(c)),
    "without from": lambda c: _changed("from", _MISSING)(_message(c)),
    "conversation a string": lambda c: _changed("conversation", "x")(_message(c)),
    "without a conversation id": lambda c: _changed("conversation.id", _MISSING)(_message(c)),
    "entities a string": lambda c: _changed("entities", "x")(_message(c)),
    "recipient a list": lambda c: _changed("recipient", [1])(_message(c)),
    "text a number": lambda c: _changed("text", 12)(_message(c)),
    "without serviceUrl": lambda c: _changed("serviceUrl", _MISSING)(_message(c)),
    "serviceUrl not a URL": lambda c: _changed("serviceUrl", "not a url")(_message(c)),
    "serviceUrl not http": lambda c: _changed("serviceUrl", "file:///etc/passwd")(_message(c)),
}


@pytest.mark.parametrize("make", MALFORMED.values(), ids=MALFORMED.keys())
async def test_an_activity_of_the_wrong_shape_is_a_400_that_changes_nothing(
    teams: Teams, connector: ConnectorStandIn, make: Callable[[ConnectorStandIn], Any]
) -> None:
    before = teams.counts()
    status, _ = await teams.post(make(connector))
    assert status == 400
    assert teams.counts() == before
    assert connector.sent == []


FORGED_PRESSES: dict[str, tuple[str, dict[str, Any]]] = {
    "a 31-digit job": ("job.retry", {"object": "1" * 31, "version": 0}),
    "a 5,000-digit version": ("job.retry", {"object": "1", "version": "9" * 5000}),
    "a superscript job": ("job.cancel", {"object": "²", "version": 0}),
    "a list for a version": ("job.cancel", {"object": "1", "version": [1]}),
    "an unknown verb": ("job.explode", {"object": "1", "version": 0}),
}


@pytest.mark.parametrize(("verb", "data"), FORGED_PRESSES.values(), ids=FORGED_PRESSES.keys())
async def test_a_forged_card_action_is_refused_to_the_presser_and_audited(
    teams: Teams, connector: ConnectorStandIn, verb: str, data: dict[str, Any]
) -> None:
    press = card_action(
        verb, data, service_url=connector.service_url, user="aad-alice", name="Alice Admin"
    )
    status, body = await teams.post(press)
    assert status == 200
    answer = json.loads(body)
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert "no longer does anything" in answer["value"]
    await teams.settle()
    assert teams.rows("SELECT action, outcome FROM audit_log") == [("button", "invalid")]
    assert teams.rows("SELECT count(*) FROM jobs") == [(0,)]


async def test_an_invoke_that_is_not_an_action_execute_is_refused_and_audited(
    teams: Teams, connector: ConnectorStandIn
) -> None:
    press = card_action("job.retry", {}, service_url=connector.service_url, user="u", name="U")
    press["value"] = {"action": {"type": "Action.Submit", "data": "x" * 5000}}
    status, body = await teams.post(press)
    assert status == 200
    assert "no longer does anything" in json.loads(body)["value"]
    await teams.settle()
    [(action, outcome, detail)] = teams.rows("SELECT action, outcome, detail FROM audit_log")
    assert (action, outcome) == ("button", "invalid") and len(detail) <= 1000


INTERNAL = ("Exception", "Traceback", "ClientResponseError", "500", "Internal Server Error")


async def test_a_failed_turn_is_told_in_a_catalog_sentence_without_the_exception_text(
    teams: Teams, connector: ConnectorStandIn
) -> None:
    # The first reply fails at the connector: the SDK raises inside our message handler.
    connector.failures.append(("/activities", 500))
    status, _ = await teams.post(_message(connector, "help"))
    assert status in (200, 202)
    [told] = await connector.wait_for(1)
    assert told["text"] == (
        "Something went wrong while answering; it has been logged. Try again, or type export help."
    )
    everything = json.dumps(connector.sent)
    assert not any(word in everything for word in INTERNAL)


async def test_a_failed_turn_is_told_in_french_to_a_french_speaker(
    teams: Teams, connector: ConnectorStandIn
) -> None:
    connector.failures.append(("/activities", 500))
    french = {**_message(connector, "help"), "locale": "fr-FR"}
    await teams.post(french)
    [told] = await connector.wait_for(1)
    assert told["text"].startswith("Une erreur est survenue")


async def test_a_failed_invoke_answers_the_presser_with_the_catalog_sentence(
    teams: Teams, connector: ConnectorStandIn
) -> None:
    await teams.post(_message(connector, "run quick"))
    await connector.wait_for(1)
    await teams.settle()
    # The requester's private message (C3) goes out on its own: the failure below is meant
    # for the new job's card, so it must not be there first to take it.
    sent = "SELECT count(*) FROM deliveries WHERE private = 1 AND state = 'sent'"
    async with asyncio.timeout(10):
        while teams.rows(sent) != [(1,)]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    # Retry on an ended job's card is accepted; posting the new job's card then fails.
    connector.failures.append(("/activities", 500))
    press = card_action(
        "job.retry",
        {"object": "1", "version": 0},
        service_url=connector.service_url,
        user="aad-alice",
        name="Alice Admin",
        card_message_id=connector.answered[0],
    )
    status, body = await teams.post(press)
    assert status == 200
    answer = json.loads(body)
    assert answer["value"].startswith("Something went wrong while answering")
    assert not any(word in body for word in INTERNAL)
