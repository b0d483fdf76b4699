"""Hostile input at the job-event API (#16): generated paths, headers and bodies, unsigned and
signed with a real key, over loopback HTTP. Whatever arrives: never a 500, always a problem
document when refused, and a refusal writes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.api_client import WRITTEN_TABLES, new_key, signed_headers
from tests.adapters.slack_harness import SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn
from tests.hostile.chat_shapes import HOSTILE_TEXT, JSON_VALUES

HOSTILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)
OPERATIONS = st.sampled_from(["runs", "runs/{rid}/progress", "runs/{rid}/finish", "report"])
FIELDS = st.dictionaries(
    st.sampled_from(
        ["rid", "host", "command", "bytes", "files", "percent", "exit_status", "state",
         "duration", "size", "checksum", "archive", "log_tail", "other"]
    ),
    JSON_VALUES,
    max_size=6,
)  # fmt: skip


@pytest.fixture
async def door(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[tuple[SlackHarness, str]]:
    async with slack_harness(
        tmp_path, standin, targets=[{"name": "db", "kind": "reported"}]
    ) as harness:
        yield harness, await new_key(harness.client, "fuzz", may_create=True)


def _counts(api: SlackHarness) -> dict[str, int]:
    return {t: api.rows(f"SELECT count(*) FROM {t}")[0][0] for t in WRITTEN_TABLES}


def _escaped(part: str) -> str:
    """A path segment as a forger sends it: any bytes, percent-encoded (lone surrogates too)."""
    return quote(part.encode("utf-8", "surrogatepass"), safe="")


async def _send(
    api: SlackHarness, target: str, operation: str, rid: str, body: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    path = f"/api/v1/targets/{_escaped(target)}/" + operation.format(rid=_escaped(rid))
    response = await api.client.post(path, data=body, headers=headers)
    text = await response.text()
    assert response.status < 500, text
    if len(path) > 8000:  # past aiohttp's request-line limit: its parser answers, not the API
        assert response.status == 400
        return response.status, text
    if response.status >= 400:
        assert response.content_type == "application/problem+json", text
        problem = json.loads(text)
        assert problem["status"] == response.status and problem["detail"]
    return response.status, text


@HOSTILE
@given(
    target=st.one_of(st.just("db"), HOSTILE_TEXT.filter(bool)),
    operation=OPERATIONS,
    rid=st.one_of(st.just("r1"), HOSTILE_TEXT.filter(bool)),
    body=st.one_of(st.binary(max_size=300), FIELDS.map(lambda v: json.dumps(v).encode())),
    key=st.one_of(st.none(), HEADER_TEXT),
    stamp=st.one_of(st.none(), HEADER_TEXT, st.just("9" * 3000)),
    signature=st.one_of(st.none(), HEADER_TEXT),
)
async def test_unsigned_or_badly_signed_calls_are_refused_and_change_nothing(
    door: tuple[SlackHarness, str],
    target: str,
    operation: str,
    rid: str,
    body: bytes,
    key: str | None,
    stamp: str | None,
    signature: str | None,
) -> None:
    api, _ = door
    headers = {"Content-Type": "application/json"}
    for name, value in (
        ("X-Exportbot-Key", key),
        ("X-Exportbot-Timestamp", stamp),
        ("X-Exportbot-Signature", signature),
    ):
        if value is not None:
            headers[name] = value
    before = _counts(api)
    status, _ = await _send(api, target, operation, rid, body, headers)
    assert 400 <= status < 500
    assert _counts(api) == before


@HOSTILE
@given(
    target=st.one_of(st.just("db"), HOSTILE_TEXT.filter(bool)),
    operation=OPERATIONS,
    rid=st.one_of(st.just("r1"), HOSTILE_TEXT.filter(bool)),
    body=st.one_of(st.binary(max_size=300), FIELDS.map(lambda v: json.dumps(v).encode())),
)
async def test_signed_calls_of_any_shape_are_answered_or_refused_without_a_500(
    door: tuple[SlackHarness, str], target: str, operation: str, rid: str, body: bytes
) -> None:
    api, key = door
    before = _counts(api)
    status, _ = await _send(api, target, operation, rid, body, signed_headers(key, body))
    if status >= 400:
        assert _counts(api) == before
