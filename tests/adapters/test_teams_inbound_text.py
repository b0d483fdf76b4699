"""What a person typed in Teams reaches the grammar as typed: Teams sends message text as
HTML, so `<` arrives as `&lt;` and a typed `&lt;` as `&amp;lt;`; each is undone once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.adapters.teams_harness import teams_client, teams_settings
from tests.adapters.teams_standin import ConnectorStandIn, message


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with teams_client(teams_settings(tmp_path)) as client:
        yield client


@pytest.mark.parametrize(
    ("sent", "typed", "not_typed"),
    [
        ("a&amp;lt;b", "a&lt;b", "a<b"),  # a typed entity stays an entity
        ("a&lt;b", "a<b", "a&lt;b"),  # a typed `<` is a `<`
        ("a&amp;amp;b", "a&amp;b", "a&b"),
    ],
)
async def test_html_entities_in_teams_text_are_undone_once(
    teams: TestClient[web.Request, web.Application],
    connector: ConnectorStandIn,
    sent: str,
    typed: str,
    not_typed: str,
) -> None:
    await teams.post(
        "/api/messages", json=message(f"status {sent}", service_url=connector.service_url)
    )
    [reply] = await connector.wait_for(1)
    # The card's markdown escapes (`\<`, `\&`) set aside, what the card shows:
    shown = json.dumps(reply, ensure_ascii=False).replace("\\\\", "")
    assert f"“{typed}”" in shown
    assert f"“{not_typed}”" not in shown
