"""Hostile input at `/api/messages` (G1, issue #12): generated activities over loopback HTTP.

Unsigned: a bot with a client id (JWT validation on) refuses every request without a valid
token with a 401, and nothing changes. Accepted (the harness's anonymous loopback mode, as the
Teams tests run): never a 500; a refused activity changes nothing and calls nothing at the
connector; every command and every press answered leaves exactly one audit line."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import BOT_KEY, create_app
from bot.bootstrap import Bot
from bot.config import Settings
from core.commands.actions import FORM_ACTIONS
from tests.adapters.teams_standin import (
    TENANT,
    ConnectorStandIn,
    card_action,
    connector_standin,
    message,
)
from tests.hostile.chat_shapes import HOSTILE_TEXT, JSON_VALUES, mutated

TABLES = ("audit_log", "jobs", "annotations", "conversation_references", "posted_messages")
REFUSED = {400, 401, 413}
HOSTILE = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Door:
    def __init__(self, client: TestClient[web.Request, web.Application], db: Path) -> None:
        self.client = client
        self.db = db

    @property
    def bot(self) -> Bot:
        return self.client.app[BOT_KEY]

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        response = await self.client.post("/api/messages", data=body, headers=sent)
        return response.status, await response.text()

    async def counts(self) -> dict[str, int]:
        await self.bot.executor.idle()
        await self.bot.audit_writer.flush()
        with sqlite3.connect(self.db) as db:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"teams:{TENANT}:aad-alice"],
        scheduler=False,
        **extra,
    )


async def _door(settings: Settings, db: Path) -> AsyncIterator[Door]:
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as client:
        yield Door(client, db)


@pytest.fixture
async def connector() -> AsyncIterator[ConnectorStandIn]:
    async with connector_standin() as standin:
        yield standin


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Door]:
    async for door in _door(_settings(tmp_path), tmp_path / "bot.db"):
        yield door


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Door]:
    settings = _settings(tmp_path, teams_client_id="app-id", teams_tenant_id=TENANT)
    async for door in _door(settings, tmp_path / "bot.db"):
        yield door


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)
BODIES = st.one_of(st.binary(max_size=2000), JSON_VALUES.map(lambda v: json.dumps(v).encode()))


@HOSTILE
@given(
    body=st.one_of(
        BODIES, st.just(json.dumps(message("run demo", service_url="http://127.0.0.1:9/")).encode())
    ),
    authorization=st.one_of(st.none(), HEADER_TEXT, HEADER_TEXT.map("Bearer {}".format)),
)
async def test_without_a_valid_token_every_request_is_a_401_that_changes_nothing(
    secured: Door, body: bytes, authorization: str | None
) -> None:
    before = await secured.counts()
    headers = {} if authorization is None else {"Authorization": authorization}
    status, _ = await secured.post(body, headers)
    assert status == 401
    assert await secured.counts() == before


@HOSTILE
@given(body=BODIES)
async def test_accepted_garbage_is_never_a_500_and_a_refusal_changes_nothing(
    teams: Door, connector: ConnectorStandIn, body: bytes
) -> None:
    before, calls = await teams.counts(), len(connector.sent)
    status, _ = await teams.post(body)
    assert status < 500
    if status in REFUSED:
        assert await teams.counts() == before
        assert len(connector.sent) == calls


def _activities(service_url: str) -> list[dict[str, Any]]:
    return [
        message("status", service_url=service_url, channel_name="Release crew"),
        message("run nowhere", service_url=service_url, conversation_type="personal"),
        message(
            "status",
            service_url=service_url,
            conversation_type="groupChat",
            conversation_name="Ops",
        ),
        card_action(
            "job.retry",
            {"object": "1", "version": 0},
            service_url=service_url,
            user="aad-alice",
            name="Alice",
        ),
    ]


@HOSTILE
@given(
    pick=st.integers(0, 3),
    path=st.lists(st.integers(0, 40), min_size=1, max_size=4),
    value=JSON_VALUES,
)
async def test_activities_of_any_shape_are_answered_or_refused_without_a_500(
    teams: Door, connector: ConnectorStandIn, pick: int, path: list[int], value: Any
) -> None:
    activity = mutated(_activities(connector.service_url)[pick], path, value)
    before, calls = await teams.counts(), len(connector.sent)
    status, _ = await teams.post(json.dumps(activity).encode())
    assert status < 500
    after = await teams.counts()
    if status in REFUSED:
        assert after == before and len(connector.sent) == calls
    else:
        assert after["audit_log"] - before["audit_log"] <= 1  # one line per request at most


@HOSTILE
@given(target=HOSTILE_TEXT.filter(lambda t: t.strip().lower() != "demo"))
async def test_every_answered_command_leaves_exactly_one_audit_line(
    teams: Door, connector: ConnectorStandIn, target: str
) -> None:
    before = await teams.counts()
    activity = message(f"run {target}", service_url=connector.service_url)
    status, _ = await teams.post(json.dumps(activity).encode())
    assert status in (200, 202)
    after = await teams.counts()
    assert after["audit_log"] == before["audit_log"] + 1
    assert after["jobs"] == before["jobs"]


VERBS = st.one_of(
    st.sampled_from(["job.retry", "job.cancel", "job.log", "target.prune", "draft.approve"]),
    HOSTILE_TEXT,
    # `exclude`'s preset buttons (D2): a known preset, or anything after the prefix.
    st.sampled_from(["exclude.add.logs", "exclude.add.large-media", "exclude.add."]),
    HOSTILE_TEXT.map(lambda text: "exclude.add." + text),
)


async def alice_presses(
    teams: Door, connector: ConnectorStandIn, name: str, obj: Any, version: Any
) -> dict[str, Any]:
    """Alice presses the Action.Execute `name` with forged data: always answered (200, invoke
    status 200); the invoke response."""
    press = card_action(
        name,
        {"object": obj, "version": version},
        service_url=connector.service_url,
        user="aad-alice",
        name="Alice Admin",
    )
    status, body = await teams.post(json.dumps(press).encode())
    assert status == 200
    answer: dict[str, Any] = json.loads(body)
    assert answer["statusCode"] == 200
    return answer


@HOSTILE
@given(verb=VERBS, obj=st.one_of(JSON_VALUES, HOSTILE_TEXT), version=JSON_VALUES)
async def test_every_pressed_button_is_answered_and_audited_once(
    teams: Door, connector: ConnectorStandIn, verb: str, obj: Any, version: Any
) -> None:
    before = await teams.counts()
    await alice_presses(teams, connector, verb, obj, version)
    after = await teams.counts()
    opened_a_form = verb in FORM_ACTIONS or verb == "form.submit"
    assert after["audit_log"] == before["audit_log"] + (0 if opened_a_form else 1)


async def test_a_lone_surrogate_is_answered_and_audited(
    teams: Door, connector: ConnectorStandIn
) -> None:
    before = await teams.counts()
    activity = message("run a\udc80b", service_url=connector.service_url)
    status, _ = await teams.post(json.dumps(activity).encode())
    assert status in (200, 202)
    assert (await teams.counts())["audit_log"] == before["audit_log"] + 1


FORM_DATA = st.fixed_dictionaries(
    {
        "form": st.one_of(st.sampled_from(["note", "draft", "decision"]), HOSTILE_TEXT),
        "context": st.one_of(
            st.sampled_from(["1", "approve:1:1", "9" * 5000, "²", ""]), HOSTILE_TEXT
        ),
    },
    optional={
        name: st.one_of(HOSTILE_TEXT, JSON_VALUES)
        for name in ("text", "kind", "target", "cron", "timezone", "keep", "exclude", "comment")
    },
)


@HOSTILE
@given(data=FORM_DATA)
async def test_any_form_submission_is_answered_below_500_and_audited_at_most_once(
    teams: Door, connector: ConnectorStandIn, data: dict[str, Any]
) -> None:
    """Teams merges what was typed into the card's data: all of it can be forged."""
    before = await teams.counts()
    submit = card_action(
        "form.submit", data, service_url=connector.service_url, user="aad-alice", name="Alice"
    )
    status, _ = await teams.post(json.dumps(submit).encode())
    assert status < 500
    after = await teams.counts()
    assert after["audit_log"] - before["audit_log"] in (0, 1)
