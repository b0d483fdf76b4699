"""A person @mentioned on Teams is a principal the grammar can name (issue 17): from the
mention's entity (its AAD object id) or, when Teams sent only the `29:` id, from the
conversation's roster at the connector. The bot's own mention is still dropped; a mention
nobody can resolve is answered with its name, and nothing is done."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.teams_harness import teams_client, teams_settings
from tests.adapters.teams_standin import (
    CHANNEL,
    TENANT,
    ConnectorStandIn,
    message,
    user_mention,
)
from tests.hostile.chat_shapes import HOSTILE_TEXT, JSON_VALUES

CAROL = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"  # an AAD object id, as Teams gives them
CAROL_MEMBER = "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3I5sBiYdF0xyzs"


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with teams_client(teams_settings(tmp_path)) as client:
        yield client


def _grants(tmp_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute("SELECT principal, role FROM grants ORDER BY principal, role")
        return [(str(p), str(r)) for p, r in rows.fetchall()]


async def _say(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    text: str,
    mentions: list[dict[str, Any]],
) -> str:
    """Alice writes `text` (mentioning the bot and `mentions`); the bot's answer, as JSON."""
    before = len(connector.activities())
    activity = message(text, service_url=connector.service_url, mentions=mentions)
    response = await teams.post("/api/messages", json=activity)
    assert response.status in (200, 202), await response.text()
    answers = await connector.wait_for(before + 1)
    return json.dumps(answers[before], ensure_ascii=False)


async def test_a_mention_with_its_object_id_grants_that_person_without_asking_the_roster(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    answer = await _say(
        teams,
        connector,
        "role grant <at>Carol</at> reviewer",
        [user_mention("Carol", user=CAROL, member=CAROL_MEMBER)],
    )
    assert f"teams:{TENANT}:{CAROL} is now reviewer for all targets." in answer
    assert (f"teams:{TENANT}:{CAROL}", "reviewer") in _grants(tmp_path)
    assert connector.looked_up == []  # the entity said who it is


async def test_a_mention_with_only_the_member_id_is_found_in_the_conversations_roster(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    connector.member(CHANNEL, CAROL, "Carol")
    answer = await _say(
        teams,
        connector,
        "role grant <at>Carol</at> operator",
        [user_mention("Carol", member=f"29:{CAROL}")],
    )
    assert f"teams:{TENANT}:{CAROL} is now operator for all targets." in answer
    assert (f"teams:{TENANT}:{CAROL}", "operator") in _grants(tmp_path)
    [(path, _)] = connector.looked_up
    assert path == f"/v3/conversations/{CHANNEL}/members/29:{CAROL}"
    # And revoked the same way: the roster answers again.
    revoked = await _say(
        teams,
        connector,
        "role revoke <at>Carol</at> operator",
        [user_mention("Carol", member=f"29:{CAROL}")],
    )
    assert f"teams:{TENANT}:{CAROL} is no longer operator" in revoked
    assert (f"teams:{TENANT}:{CAROL}", "operator") not in _grants(tmp_path)


async def test_role_list_of_a_mentioned_person_names_them(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn
) -> None:
    mention = [user_mention("Carol", user=CAROL)]
    await _say(teams, connector, "role grant <at>Carol</at> support", mention)
    listed = await _say(teams, connector, "role list <at>Carol</at>", mention)
    assert f"Roles of teams:{TENANT}:{CAROL}" in listed and "support" in listed


async def test_a_mention_the_roster_does_not_know_is_named_and_nothing_is_done(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    before = _grants(tmp_path)
    answer = await _say(
        teams,
        connector,
        "role grant <at>Mallory</at> admin",
        [user_mention("Mallory", member="29:nobody-here")],
    )
    assert "I could not tell who Mallory is" in answer and "Nothing was done" in answer
    assert _grants(tmp_path) == before


async def test_a_roster_failure_is_named_and_nothing_is_done(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    connector.member(CHANNEL, CAROL, "Carol")
    connector.failures.append(("/members/", 503))
    before = _grants(tmp_path)
    answer = await _say(
        teams,
        connector,
        "role grant <at>Carol</at> admin",
        [user_mention("Carol", member=f"29:{CAROL}")],
    )
    assert "I could not look Carol up in this conversation's member list" in answer
    assert _grants(tmp_path) == before


async def test_the_refusal_is_in_the_speakers_language(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn
) -> None:
    before = len(connector.activities())
    activity = message(
        "role grant <at>Mallory</at> admin",
        service_url=connector.service_url,
        locale="fr-FR",
        mentions=[user_mention("Mallory", member="29:nobody-here")],
    )
    assert (await teams.post("/api/messages", json=activity)).status in (200, 202)
    answer = json.dumps((await connector.wait_for(before + 1))[before], ensure_ascii=False)
    assert "Je ne sais pas qui est Mallory" in answer


async def test_the_bots_own_mention_is_still_dropped_and_untagged_text_stays_out(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    # A tag no entity describes names nobody: dropped as before, so the command lacks a person.
    answer = await _say(teams, connector, "role grant <at>Carol</at> reviewer", [])
    assert (f"teams:{TENANT}:{CAROL}", "reviewer") not in _grants(tmp_path)
    assert "role grant" in answer  # the usage, not a grant
    assert connector.looked_up == []


async def test_an_entity_whose_text_is_not_in_the_message_names_nobody(
    teams: TestClient[web.Request, web.Application], connector: ConnectorStandIn, tmp_path: Path
) -> None:
    await _say(teams, connector, "role grant bob reviewer", [user_mention("Carol", user=CAROL)])
    grants = _grants(tmp_path)
    assert (f"teams:{TENANT}:bob", "reviewer") in grants
    assert (f"teams:{TENANT}:{CAROL}", "reviewer") not in grants


HOSTILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
IDS = st.one_of(
    HOSTILE_TEXT,
    st.text(max_size=5000),
    st.just("29:" + "A" * 5000),
    st.just("29:../../../v3/conversations/other/activities"),
    st.just("29:x?y#z"),
    st.just("a\x00b"),
    JSON_VALUES,
)


@HOSTILE
@given(
    shown=st.one_of(HOSTILE_TEXT, st.just("<at>Carol</at>"), st.text(max_size=3000)),
    member=IDS,
    aad=st.one_of(st.none(), IDS),
    name=st.one_of(JSON_VALUES, HOSTILE_TEXT),
    in_text=st.booleans(),
)
async def test_hostile_mention_entities_are_answered_and_grant_nobody_unknown(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    tmp_path: Path,
    shown: Any,
    member: Any,
    aad: Any,
    name: Any,
    in_text: bool,
) -> None:
    mentioned: dict[str, Any] = {"id": member, "name": name}
    if aad is not None:
        mentioned["aadObjectId"] = aad
    entity = {"type": "mention", "text": shown, "mentioned": mentioned}
    said = (
        f"role grant {shown} reviewer"
        if in_text and isinstance(shown, str)
        else "role grant x reviewer"
    )
    before = len(connector.activities())
    activity = message(said, service_url=connector.service_url, mentions=[entity])
    response = await teams.post("/api/messages", json=activity)
    assert response.status < 500
    if response.status in (200, 202):
        await connector.wait_for(before + 1)  # always answered
    for principal, _ in _grants(tmp_path):
        user = principal.split(":", 2)[-1]
        assert user and "\x00" not in user and "<" not in user and len(user) <= 128, principal
    for path, _ in connector.looked_up:  # only this conversation's roster, by a sane id
        assert path.startswith(f"/v3/conversations/{CHANNEL}/members/29:"), path
        assert len(path) < 400
