"""Hostile input through Discord's gateway (A3 gateway mode): generated MESSAGE_CREATE (and
THREAD_CREATE) events, sent over the loopback gateway to discord.py's real client.

Whatever arrives: the client keeps its one connection (no crash, no reconnect), nothing
outside a job's thread is recorded, and a note written right after still lands. Hostile
words in a job's thread are a note with its text cleaned (no NUL), or a clear reply."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.discord_gateway_harness import MENTION, GatewayHarness, gateway_harness
from tests.adapters.discord_gateway_standin import message_create
from tests.adapters.discord_standin import (
    GUILD_ID,
    _now_iso,
    bot_user,
    discord_standin,
    snowflake,
    user_object,
)
from tests.hostile.chat_shapes import HOSTILE_TEXT, JSON_VALUES, mutated

HOSTILE = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CAROL = f"discord:{GUILD_ID}:{user_object('carol')['id']}"
_marks = itertools.count(1)

# Channel ids no job's thread has: made up, the wrong type, huge, or not numbers at all.
UNKNOWN_CHANNELS = st.one_of(
    st.integers(1, 2**64).map(str),
    st.just("0"),
    st.text(max_size=30),
    st.integers(-(10**30), 10**30),
    st.none(),
)
CONTENT = st.one_of(
    HOSTILE_TEXT,
    HOSTILE_TEXT.map(lambda t: f"{MENTION} {t}"),
    st.just(MENTION + " " + "x" * 20_000),  # five times what Discord allows
)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[tuple[GatewayHarness, str]]:
    async with discord_standin() as standin, gateway_harness(tmp_path, standin) as harness:
        yield harness, await harness.run_job()


def _counts(bot: GatewayHarness) -> dict[str, int]:
    """Notes, and audit lines of the person writing (the job's own keep coming meanwhile)."""
    [(notes,)] = bot.rows("SELECT count(*) FROM annotations")
    [(lines,)] = bot.rows(f"SELECT count(*) FROM audit_log WHERE actor = '{CAROL}'")
    return {"annotations": notes, "audit_log": lines}


async def _still_listening(bot: GatewayHarness, thread: str) -> None:
    """A plain note, written after the hostile event, lands: the client read past it on the
    same connection, never reconnecting nor starting again."""
    mark = f"still here {next(_marks)}"
    await bot.say(f"{MENTION} {mark}", channel_id=thread)
    await bot.eventually(f"SELECT count(*) FROM annotations WHERE text = '{mark}'", [(1,)])
    await bot.settle()
    assert bot.gateway.connections == 1 and bot.gateway.resumes == []
    assert bot.discord.gateway is not None and bot.discord.gateway.starts == 1


def _someones_message(content: str, channel_id: Any) -> dict[str, Any]:
    return message_create(
        content,
        author=user_object("carol"),
        channel_id=channel_id,
        guild_id=GUILD_ID,
        mentions=[bot_user()],
        message_id=snowflake(),
        timestamp=_now_iso(),
    )


@HOSTILE
@given(
    event=st.sampled_from(["MESSAGE_CREATE", "THREAD_CREATE"]),
    channel=UNKNOWN_CHANNELS,
    content=CONTENT,
    path=st.lists(st.integers(0, 40), max_size=4),
    value=JSON_VALUES,
)
async def test_garbage_events_outside_a_jobs_thread_record_nothing_and_crash_nothing(
    bot: tuple[GatewayHarness, str],
    event: str,
    channel: Any,
    content: str,
    path: list[int],
    value: Any,
) -> None:
    harness, thread = bot
    before = _counts(harness)
    data = _someones_message(content, channel)
    await harness.gateway.dispatch(event, mutated(data, path, value) if path else data)
    await _still_listening(harness, thread)
    after = _counts(harness)
    assert after["annotations"] == before["annotations"] + 1  # the check's note, only
    # The check's note, audited as the command and as the change (two lines); nothing else.
    assert after["audit_log"] == before["audit_log"] + 2


@HOSTILE
@given(content=CONTENT)
async def test_hostile_words_in_a_jobs_thread_are_a_clean_note_or_a_reply(
    bot: tuple[GatewayHarness, str], content: str
) -> None:
    harness, thread = bot
    before = _counts(harness)
    await harness.gateway.dispatch("MESSAGE_CREATE", _someones_message(content, thread))
    await _still_listening(harness, thread)
    added = harness.rows(f"SELECT text FROM annotations LIMIT -1 OFFSET {before['annotations']}")
    assert 1 <= len(added) <= 2  # the check's note, and the hostile one if it was a note
    for (text,) in added:
        assert "\x00" not in text and text.strip()
    if MENTION not in content:  # not addressed to the bot: not a note, no reply
        assert len(added) == 1


@pytest.mark.parametrize("garbage", [[], "a string", 12, None, {"id": "not a snowflake"}])
async def test_an_event_whose_body_is_not_a_message_is_dropped(
    bot: tuple[GatewayHarness, str], garbage: Any
) -> None:
    harness, thread = bot
    await harness.gateway.dispatch("MESSAGE_CREATE", garbage)
    await _still_listening(harness, thread)
    assert harness.rows("SELECT count(*) FROM annotations") == [(1,)]
