"""Discord's door (G1): garbage headers are a 401, correctly signed interactions of the wrong
shape a 400 with a JSON body — never a 500, and a refused request changes nothing."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.adapters.discord_harness import SIGNING_KEY, DiscordHarness
from tests.adapters.discord_standin import (
    component,
    modal_submit,
    ping,
    signed_interaction,
    slash_command,
)

TABLES = ("audit_log", "jobs", "annotations", "inbound_events", "conversation_references")


def _counts(discord: DiscordHarness) -> dict[str, int]:
    return {table: discord.rows(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def _signed_headers(body: bytes, **replaced: str) -> dict[str, str]:
    _, headers = signed_interaction(SIGNING_KEY, {})
    stamp = str(int(time.time()))
    headers["X-Signature-Timestamp"] = stamp
    headers["X-Signature-Ed25519"] = SIGNING_KEY.sign(stamp.encode() + body).signature.hex()
    headers.update(replaced)
    return headers


GARBAGE_HEADERS: dict[str, dict[str, str]] = {
    "a 5,000-digit timestamp": {"X-Signature-Timestamp": "9" * 5000},
    "a superscript-digit timestamp": {"X-Signature-Timestamp": "²"},
    "a negative timestamp": {"X-Signature-Timestamp": "-1"},
    "a signature that is not hex": {"X-Signature-Ed25519": "zz" * 64},
    "a signature of odd length": {"X-Signature-Ed25519": "a" * 127},
    "a signature far too long": {"X-Signature-Ed25519": "ab" * 1000},
}


@pytest.mark.parametrize("replaced", GARBAGE_HEADERS.values(), ids=GARBAGE_HEADERS.keys())
async def test_garbage_signature_headers_are_refused_with_401(
    discord: DiscordHarness, replaced: dict[str, str]
) -> None:
    body = json.dumps(slash_command("run", {"target": "demo"})).encode()
    before = _counts(discord)
    response = await discord.client.post(
        "/discord/interactions", data=body, headers=_signed_headers(body, **replaced)
    )
    assert response.status == 401
    assert await response.json() == {"error": "invalid request signature"}
    await discord.settle()
    assert _counts(discord) == before


@pytest.mark.parametrize("missing", ["X-Signature-Timestamp", "X-Signature-Ed25519"])
async def test_a_missing_signature_header_is_refused_with_401(
    discord: DiscordHarness, missing: str
) -> None:
    body = json.dumps(ping()).encode()
    headers = _signed_headers(body)
    del headers[missing]
    response = await discord.client.post("/discord/interactions", data=body, headers=headers)
    assert response.status == 401


async def test_a_huge_unsigned_body_is_refused_without_a_500(discord: DiscordHarness) -> None:
    body = io.BytesIO(b"{" * (3 * 1024 * 1024))  # past aiohttp's 1 MiB default
    response = await discord.client.post(
        "/discord/interactions", data=body, headers=_signed_headers(b"")
    )
    assert response.status in (401, 413)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A change to an interaction: the field at dotted `path` becomes `value`."""

    def change(interaction: dict[str, Any]) -> dict[str, Any]:
        node: Any = interaction
        *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        for key in parents:
            node = node[key]
        node[last] = value
        return interaction

    return change


MALFORMED: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], Any]]] = {
    "member is a string": (lambda: slash_command("help"), _set("member", "x")),
    "member.user is a string": (lambda: slash_command("help"), _set("member.user", "x")),
    "user is a list": (lambda: slash_command("help", dm=True), _set("user", [1])),
    "user.id is an object": (lambda: slash_command("help", dm=True), _set("user.id", {})),
    "data is a string": (lambda: slash_command("help"), _set("data", "x")),
    "options is a string": (lambda: slash_command("help"), _set("data.options", "x")),
    "an option is a number": (lambda: slash_command("help"), _set("data.options", [1])),
    "a subcommand without a name": (
        lambda: slash_command("help"),
        _set("data.options", [{"type": 1, "options": []}]),
    ),
    "an option value is an object": (
        lambda: slash_command("run", {"target": "demo"}),
        _set("data.options.0.options", [{"name": "target", "type": 3, "value": {}}]),
    ),
    "modal components is a string": (
        lambda: modal_submit("note:1", {"text": "hi"}),
        _set("data.components", "x"),
    ),
    "a modal component is a list": (
        lambda: modal_submit("note:1", {"text": "hi"}),
        _set("data.components", [[1]]),
    ),
    "a modal input is a string": (
        lambda: modal_submit("note:1", {"text": "hi"}),
        _set("data.components.0.component", "x"),
    ),
    "custom_id is a list": (lambda: component("job.retry:1:0"), _set("data.custom_id", [])),
    "channel is a string": (lambda: slash_command("help"), _set("channel", "x")),
    "type is a string": (lambda: slash_command("help"), _set("type", "2")),
    "guild_id is an object": (lambda: slash_command("help"), _set("guild_id", {})),
    "locale is a list": (lambda: slash_command("help"), _set("locale", ["en"])),
    # Past the audit log's columns (workspace 128, actor name 256 characters).
    "guild_id is not a snowflake": (lambda: slash_command("help"), _set("guild_id", "9" * 200)),
    "user id is not a snowflake": (lambda: slash_command("help"), _set("member.user.id", "x")),
    "a nickname of 300 characters": (lambda: slash_command("help"), _set("member.nick", "n" * 300)),
}


@pytest.mark.parametrize(("make", "change"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_signed_interaction_of_the_wrong_shape_is_a_400_that_changes_nothing(
    discord: DiscordHarness,
    make: Callable[[], dict[str, Any]],
    change: Callable[[dict[str, Any]], Any],
) -> None:
    interaction = make()
    change(interaction)
    before = _counts(discord)
    status, answer = await discord.send(interaction)
    assert status == 400
    assert isinstance(answer, dict) and answer["error"]
    await discord.settle()
    assert _counts(discord) == before
