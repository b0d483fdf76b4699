"""Hostile input at `/discord/interactions` (G1, issue #12): generated bodies and headers,
unsigned and signed with the harness's application key, over loopback HTTP.

Whatever arrives: never a 500; a refused request (401/400/413) changes nothing in the
database and calls nothing at Discord; every command or button that is answered leaves
exactly one audit line."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.commands.actions import ASKS_A_REASON, FORM_ACTIONS
from tests.adapters.discord_harness import SIGNING_KEY, DiscordHarness
from tests.adapters.discord_standin import (
    component,
    modal_submit,
    ping,
    slash_command,
)
from tests.hostile.chat_shapes import HOSTILE_TEXT, JSON_VALUES, mutated

TABLES = ("audit_log", "jobs", "annotations", "inbound_events", "posted_messages")
REFUSED = {400, 401, 413}
HOSTILE = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _counts(discord: DiscordHarness) -> dict[str, int]:
    return {table: discord.rows(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def _sign(body: bytes, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp or str(int(time.time()))
    signature = SIGNING_KEY.sign(stamp.encode() + body).signature.hex()
    return {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": stamp,
    }


async def _post(discord: DiscordHarness, body: bytes, headers: dict[str, str]) -> int:
    status, _ = await _exchange(discord, body, headers)
    return status


@pytest.mark.parametrize("text", ["a\udc80b"])
async def test_a_lone_surrogate_is_answered_and_audited(discord: DiscordHarness, text: str) -> None:
    before = _counts(discord)
    body = json.dumps(slash_command("run", {"target": text})).encode()
    assert await _post(discord, body, _sign(body)) == 200
    await discord.settle()
    assert _counts(discord)["audit_log"] == before["audit_log"] + 1


async def _exchange(
    discord: DiscordHarness, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    response = await discord.client.post("/discord/interactions", data=body, headers=headers)
    return response.status, await response.text()


# What an HTTP client lets through in a header value: printable ASCII and Latin-1.
HEADER_TEXT = st.text(
    st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0xA0, max_codepoint=0xFF),
    ),
    max_size=200,
)
BODIES = st.one_of(
    st.binary(max_size=2000),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda: json.dumps(slash_command("run", {"target": "demo"})).encode()),
)


@HOSTILE
@given(
    body=BODIES,
    stamp=st.one_of(st.none(), HEADER_TEXT, st.just("9" * 5000), st.just("²")),
    signature=st.one_of(st.none(), HEADER_TEXT, st.text("0123456789abcdef", max_size=130)),
)
async def test_unsigned_or_badly_signed_requests_are_refused_and_change_nothing(
    discord: DiscordHarness, body: bytes, stamp: str | None, signature: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if stamp is not None:
        headers["X-Signature-Timestamp"] = stamp
    if signature is not None:
        headers["X-Signature-Ed25519"] = signature
    before = _counts(discord)
    status = await _post(discord, body, headers)
    assert status == 401 or (status in (400, 431) and len(stamp or "") > 4000)
    await discord.settle()
    assert _counts(discord) == before


@HOSTILE
@given(body=st.one_of(st.binary(max_size=2000), JSON_VALUES.map(lambda v: json.dumps(v).encode())))
async def test_signed_garbage_is_never_a_500_and_a_refusal_changes_nothing(
    discord: DiscordHarness, body: bytes
) -> None:
    before = _counts(discord)
    status = await _post(discord, body, _sign(body))
    assert status < 500
    await discord.settle()
    if status in REFUSED:
        assert _counts(discord) == before


INTERACTIONS = st.sampled_from(
    [
        lambda: ping(),
        lambda: slash_command("help"),
        lambda: slash_command("status", dm=True),
        lambda: slash_command("run", {"target": "nowhere"}),
        lambda: slash_command("annotate", {"job": 1, "text": "hello"}),
        lambda: component("job.retry:1:0"),
        lambda: component("draft.approve:1:0"),
        lambda: modal_submit("note:1", {"text": "hello", "kind": ["note"]}),
    ]
)


@HOSTILE
@given(
    make=INTERACTIONS, path=st.lists(st.integers(0, 40), min_size=1, max_size=4), value=JSON_VALUES
)
async def test_signed_interactions_of_any_shape_are_answered_or_refused_without_a_500(
    discord: DiscordHarness, make: Callable[[], dict[str, Any]], path: list[int], value: Any
) -> None:
    interaction = mutated(make(), path, value)
    body = json.dumps(interaction).encode()
    before = _counts(discord)
    status = await _post(discord, body, _sign(body))
    assert status < 500
    await discord.settle()
    after = _counts(discord)
    if status in REFUSED:
        assert after == before
    else:
        assert after["audit_log"] - before["audit_log"] <= 1  # one line per request at most


@HOSTILE
@given(target=HOSTILE_TEXT.filter(lambda t: t.strip().lower() != "demo"))
async def test_every_answered_command_leaves_exactly_one_audit_line(
    discord: DiscordHarness, target: str
) -> None:
    before = _counts(discord)
    interaction = slash_command("run", {"target": target})
    body = json.dumps(interaction).encode()
    status = await _post(discord, body, _sign(body))
    assert status == 200
    await discord.settle()
    after = _counts(discord)
    assert after["audit_log"] == before["audit_log"] + 1
    assert after["jobs"] == before["jobs"]


BUTTON_NAMES = st.one_of(
    st.sampled_from(["job.retry", "job.cancel", "job.log", "target.prune", "draft.submit"]),
    st.sampled_from(sorted(FORM_ACTIONS) + sorted(ASKS_A_REASON)),
    HOSTILE_TEXT,
)
NUMBERS = st.one_of(st.integers(-5, 10**30).map(str), HOSTILE_TEXT)


@HOSTILE
@given(name=BUTTON_NAMES, obj=NUMBERS, version=NUMBERS)
async def test_every_pressed_button_is_answered_and_audited_once(
    discord: DiscordHarness, name: str, obj: str, version: str
) -> None:
    before = _counts(discord)
    interaction = component(f"{name}:{obj}:{version}")
    body = json.dumps(interaction).encode()
    status, text = await _exchange(discord, body, _sign(body))
    assert status == 200
    answer = json.loads(text)
    await discord.settle()
    after = _counts(discord)
    opened_a_form = answer["type"] == 9  # a modal: nothing decided yet, nothing to audit
    assert after["audit_log"] == before["audit_log"] + (0 if opened_a_form else 1)
    assert after["jobs"] == before["jobs"]
